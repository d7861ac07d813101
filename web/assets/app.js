// Small behaviours shared by every page: live filtering of lists, focus on the first error.
function liveFilter() {
  document.querySelectorAll('input[data-filter]').forEach((input) => {
    const items = () => document.querySelectorAll(input.dataset.filter);
    input.addEventListener('input', () => {
      const q = input.value.trim().toLowerCase();
      items().forEach((li) => { li.hidden = q !== '' && !(li.dataset.text || li.textContent).toLowerCase().includes(q); });
    });
  });
}

function focusFirstError() {
  const bad = document.querySelector('[aria-invalid="true"]');
  if (bad) bad.focus();
}

document.addEventListener('DOMContentLoaded', () => { liveFilter(); focusFirstError(); });

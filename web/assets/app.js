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

// "Back" on error pages: a button wired here, because the Content-Security-Policy refuses javascript: links.
function backButtons() {
  document.querySelectorAll('[data-back]').forEach((button) => {
    button.hidden = window.history.length < 2;
    button.addEventListener('click', () => window.history.back());
  });
}

document.addEventListener('DOMContentLoaded', () => { liveFilter(); focusFirstError(); backButtons(); });

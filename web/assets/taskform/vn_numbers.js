// Numbers the Vietnamese way in form-js number fields: `.` groups thousands, `,` is the decimal mark
// (1.800.000 đ; 2,5). engine/vn_numbers.py is the rule; the server checks every submission again.
//
// form-js reads a number field as an English number: pasted "1.800.000" shows NaN and is dropped, and a dot
// typed into a whole-đồng field is swallowed without a word. So, before form-js sees an input event, a text
// that is a whole Vietnamese number is handed to it as plain digits, and beside every number field a line
// shows back the amount as it will be recorded ("1.800.000 đ") or says why the text is not a number.

const GROUPED = /^\d{1,3}(\.\d{3})+$/;
const PLAIN = /^\d+$/;
const DECIMAL_COMMA = /^(\d{1,3}(\.\d{3})+|\d+),\d+$/;
const DECIMAL_DOT = /^\d+\.\d+$/;

/** The plain number text form-js understands for what a person typed, or an error (Vietnamese). */
export function readVietnamese(typed, whole) {
  let text = String(typed).trim().toLowerCase().replace(/\s+/g, '').replace(/(đồng|đ)$/, '');
  if (!text) return { value: '' };
  const sign = text.startsWith('-') ? '-' : '';
  text = text.replace(/^[-+]/, '');
  if (!text) return { value: sign };
  if (PLAIN.test(text)) return { value: sign + text };
  if (GROUPED.test(text)) {
    if (!whole && text.split('.').length === 2) {
      return { error: `«${typed}» không rõ là số nguyên hay số thập phân — viết ${text.replace('.', '')} `
        + `hoặc ${text.replace('.', ',')}` };
    }
    return { value: sign + text.replaceAll('.', '') };
  }
  if (whole) {
    return { error: `«${typed}» không phải số tiền nguyên đồng — dấu chấm chỉ để ngăn cách hàng nghìn `
      + '(1.800.000) hoặc viết liền (1800000)' };
  }
  if (DECIMAL_COMMA.test(text)) return { value: sign + text.replaceAll('.', '').replace(',', '.') };
  if (DECIMAL_DOT.test(text)) return { value: sign + text };
  return { error: 'phải là một số (ví dụ 1.800.000 hoặc 2,5)' };
}

const grouping = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 20 });

function isMoney(field) {
  return /đồng/.test(field.label || '') || ['đ', 'đồng'].includes(field.appearance?.suffixAdorner);
}

/** Wire the number fields of a rendered form-js viewer inside `host`. */
export function vietnameseNumbers(viewer, host) {
  const fields = viewer.get('formFieldRegistry').getAll().filter((f) => f.type === 'number');
  const fieldOf = (input) => fields.find((f) => input.id && input.id.endsWith(`-${f.id}`));

  const hint = (input) => {
    const group = input.closest('.fjs-form-field');
    let line = group.querySelector('.vn-number');
    if (!line) {
      line = document.createElement('p');
      line.className = 'vn-number';
      line.setAttribute('aria-live', 'polite');
      group.appendChild(line);
    }
    return line;
  };

  const show = (input, field, text) => {
    const line = hint(input);
    const read = readVietnamese(text, Number(field.decimalDigits) === 0);
    line.classList.toggle('vn-number-error', Boolean(read.error));
    if (read.error) {
      line.textContent = read.error;
    } else if (read.value === '' || Number.isNaN(Number(read.value))) {
      line.textContent = '';
    } else {
      line.textContent = `= ${grouping.format(Number(read.value))}${isMoney(field) ? ' đ' : ''}`;
    }
    return read;
  };

  // Capture phase: runs before form-js's own listener on the input, which then reads the plain digits.
  host.addEventListener('input', (event) => {
    const input = event.target;
    const field = input instanceof HTMLInputElement ? fieldOf(input) : null;
    if (!field) return;
    const read = show(input, field, input.value);
    if (read.value !== undefined && read.value !== input.value) input.value = read.value;
  }, true);

  for (const input of host.querySelectorAll('.fjs-form-field-number input')) {
    const field = fieldOf(input);
    if (field && input.value) show(input, field, input.value);
  }
  // A number that reads two ways is not sent: the line beside it says how to write it.
  return () => [...host.querySelectorAll('.vn-number-error')]
    .map((line) => line.closest('.fjs-form-field').querySelector('input'));
}

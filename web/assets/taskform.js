// The task page's form: rendered from the step's form-js schema; the server validates it again on submit.
import { Form } from '@bpmn-io/form-js-viewer';
import '@bpmn-io/form-js-viewer/dist/assets/form-js.css';
import { FormJsMessagesModule, formJsTranslate, localizeDates } from './i18n/formjs.js';
import { translateTree } from './i18n/translate.js';
import { vietnameseNumbers } from './taskform/vn_numbers.js';

const readJSON = (id, fallback) => {
  const node = document.getElementById(id);
  try { return node ? JSON.parse(node.textContent) : fallback; } catch { return fallback; }
};

// A date is never filled in by itself: the official picks it (a silent "today" once put the wrong signing date
// on a decision). Dates are dd/mm/yyyy and the calendar starts on Monday, in the page's language.
localizeDates();

async function setup() {
  const form = document.getElementById('task-form');
  const host = document.getElementById('form-js');
  const schema = readJSON('form-schema', null);
  if (!form || !host) return;
  const hidden = document.getElementById('data_json');
  let viewer = null;
  if (schema) {
    viewer = new Form({ container: host, additionalModules: [FormJsMessagesModule] });
    translateTree(host, formJsTranslate());
    const data = { ...readJSON('form-data', {}) };
    delete data.comment;
    await viewer.importSchema(schema, data);
    const serverErrors = readJSON('form-errors', {});
    if (serverErrors && Object.keys(serverErrors).length) {
      // Show the server's messages beside the fields too (form-js keys its errors by field id).
      try {
        const fields = viewer.get('formFieldRegistry').getAll();
        const errors = Object.fromEntries(Object.entries(serverErrors).map(([k, v]) => {
          const field = fields.find((f) => f.key === k);
          return [field ? field.id : k, [v]];
        }));
        viewer._setState({ errors });
      } catch (err) { /* the list above the form still shows them */ }
    }
  }
  const unreadableNumbers = viewer ? vietnameseNumbers(viewer, host) : () => [];
  host.dataset.ready = 'true';
  form.addEventListener('submit', (event) => {
    if (!viewer) { hidden.value = '{}'; return; }
    const unreadable = unreadableNumbers();
    if (unreadable.length) {
      event.preventDefault();
      unreadable[0].focus();
      return;
    }
    const { data, errors } = viewer.submit();
    if (Object.keys(errors).length) {
      event.preventDefault();
      const first = host.querySelector('.fjs-has-errors input, .fjs-has-errors textarea, .fjs-has-errors select');
      if (first) first.focus();
      return;
    }
    hidden.value = JSON.stringify(data);
  });
}

document.addEventListener('DOMContentLoaded', setup);

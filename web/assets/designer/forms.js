// The form editor dialog: @bpmn-io/form-js's FormEditor on the forms user tasks reference. Saved forms go into
// the draft (sent with Save draft / Validate / Deploy) and are versioned with the process version on deploy.
import { FormEditor } from '@bpmn-io/form-js';

import { formJsTranslate } from '../i18n/formjs.js';
import { translateTree } from '../i18n/translate.js';

const NAME = /^[a-z0-9_]{1,100}$/;

function blank(name) {
  return { type: 'default', id: `form_${name}`, schemaVersion: 16, components: [
    { id: `${name}_outcome`, type: 'radio', key: 'outcome', label: 'Kết quả', validate: { required: true },
      values: [{ label: 'Đồng ý', value: 'approve' }, { label: 'Từ chối', value: 'refuse' }] }] };
}

export class FormsDialog {
  constructor({ dialog, schemas, draftForms, messages, onSaved }) {
    this.dialog = dialog;
    this.schemas = schemas;
    this.draftForms = draftForms;
    this.M = messages;
    this.onSaved = onSaved;
    this.editor = null;
    this.select = dialog.querySelector('#form-select');
    this.nameInput = dialog.querySelector('#form-name');
    this.error = dialog.querySelector('#form-error');
    this.select.addEventListener('change', () => this.load(this.select.value));
    dialog.querySelector('#form-new').addEventListener('click', (e) => { e.preventDefault(); this.create(); });
    dialog.querySelector('#form-save').addEventListener('click', (e) => { e.preventDefault(); this.save(); });
    dialog.querySelector('#form-close').addEventListener('click', (e) => { e.preventDefault(); dialog.close(); });
  }

  names() {
    return [...new Set([...Object.keys(this.schemas), ...Object.keys(this.draftForms)])].sort();
  }

  refresh(selected) {
    this.select.innerHTML = '';
    for (const name of this.names()) {
      const label = name in this.draftForms ? `${name} *` : name;
      this.select.add(new Option(label, name));
    }
    if (selected) this.select.value = selected;
  }

  async open() {
    this.refresh(this.select.value || this.names()[0]);
    this.dialog.showModal();
    if (!this.editor) {
      const container = this.dialog.querySelector('#form-editor');
      // form-js' editor has no translate service: its palette and properties panel are translated in the page.
      translateTree(container, formJsTranslate());
      this.editor = new FormEditor({ container });
    }
    if (this.select.value) await this.load(this.select.value);
  }

  async load(name) {
    this.current = name;
    this.error.textContent = '';
    const schema = this.draftForms[name] || this.schemas[name] || blank(name);
    await this.editor.importSchema(JSON.parse(JSON.stringify(schema)));
  }

  async create() {
    const name = this.nameInput.value.trim();
    if (!NAME.test(name)) { this.error.textContent = this.M.form_name_invalid; return; }
    this.draftForms[name] = this.draftForms[name] || this.schemas[name] || blank(name);
    this.refresh(name);
    this.nameInput.value = '';
    await this.load(name);
  }

  save() {
    if (!this.current) return;
    this.draftForms[this.current] = this.editor.saveSchema();
    this.refresh(this.current);
    this.onSaved(this.current);
  }
}

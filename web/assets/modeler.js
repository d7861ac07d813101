// The process designer (/designer/<procedure>): bpmn-js modeler with the properties panel and motcua's
// group, bpmnlint while drawing, and the toolbar (save draft, validate, deploy, upload, download, compare,
// forms). The server decides validity and versions; this file only edits and shows.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import '@bpmn-io/form-js/dist/assets/form-js.css';
import '@bpmn-io/form-js/dist/assets/form-js-editor.css';
import './designer/designer.css';

import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import lintModule from 'bpmn-js-bpmnlint';
import { layoutProcess } from 'bpmn-auto-layout';

import spiffworkflow from './designer/spiffworkflow.json';
import { MotcuaPropertiesModule } from './designer/properties.js';
import lintConfig from './designer/lint.js';
import { FormsDialog } from './designer/forms.js';
import { TranslateModule, designerTranslate } from './designer/translate.js';
import { localizeDates } from './i18n/formjs.js';
import { translateTree } from './i18n/translate.js';

const data = JSON.parse(document.getElementById('designer-data').textContent);
window.MOTCUA_DESIGNER = data;
const M = data.messages;
const csrf = document.querySelector('meta[name=csrf-token]')?.content || '';
const $ = (sel) => document.querySelector(sel);

const modeler = new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#properties' },
  linting: { bpmnlint: lintConfig, active: true },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, MotcuaPropertiesModule, lintModule,
    TranslateModule],
  moddleExtensions: { spiffworkflow },
});
window.motcuaModeler = modeler; // the browser tests drive the diagram through bpmn-js's own services
// diagram-js and the properties panel write a few words without the translate service ("Search", "Back",
// "Toggle section"); the form editor's date fields use the same calendar as the task forms.
translateTree(document.querySelector('#canvas'), designerTranslate());
translateTree(document.querySelector('#properties'), designerTranslate());
localizeDates();

const draftForms = { ...(data.draft_forms || {}) };
let comparing = null; // the XML being edited while a comparison is shown
let marked = [];

function status(text, kind = 'info') {
  const el = $('#designer-status');
  el.textContent = text;
  el.dataset.kind = kind;
}

function fmt(template, values) {
  return Object.entries(values).reduce((s, [k, v]) => s.replace(`{${k}}`, v), template);
}

function clearMarkers() {
  const canvas = modeler.get('canvas');
  for (const [id, cls] of marked) {
    try { canvas.removeMarker(id, cls); } catch (e) { /* element gone */ }
  }
  marked = [];
}

function mark(id, cls) {
  const element = modeler.get('elementRegistry').get(id);
  if (!element) return false;
  modeler.get('canvas').addMarker(element, cls);
  marked.push([element, cls]);
  return true;
}

function hasDiagram(xml) {
  return /BPMNDiagram/.test(xml) && /BPMNPlane/.test(xml);
}

/** Import a diagram; files without diagram interchange (DI) get an automatic layout first. */
async function open(xml, label) {
  clearMarkers();
  let text = xml;
  let laidOut = false;
  if (!hasDiagram(text)) {
    text = await layoutProcess(text);
    laidOut = true;
  }
  const result = await modeler.importXML(text);
  modeler.get('canvas').zoom('fit-viewport', 'auto');
  document.body.dataset.imported = String(Date.now());
  const warnings = (result.warnings || []).length;
  if (laidOut) status(M.no_di, 'warn');
  else if (label) status(label);
  return { warnings, laidOut };
}

async function current() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

async function call(url, body) {
  const resp = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf, Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  let json = {};
  try { json = await resp.json(); } catch (e) { json = { message: `${resp.status} ${resp.statusText}` }; }
  return { ok: resp.ok, status: resp.status, json };
}

function showProblems(problems, warnings) {
  const list = $('#problems');
  list.innerHTML = '';
  clearMarkers();
  const items = [...problems.map((p) => [p, 'error']), ...(warnings || []).map((p) => [p, 'warning'])];
  for (const [p, kind] of items) {
    const li = document.createElement('li');
    li.className = `problem problem-${kind}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'problem-link';
    button.dataset.elementId = p.element_id || '';
    const where = [p.element_id, p.line ? `${M.line} ${p.line}` : ''].filter(Boolean).join(' · ');
    button.textContent = where ? `${where}: ${p.message}` : p.message;
    button.addEventListener('click', () => focusElement(p.element_id));
    li.appendChild(button);
    list.appendChild(li);
    if (p.element_id) mark(p.element_id, kind === 'error' ? 'motcua-error' : 'motcua-warning');
  }
  $('#problems-panel').hidden = items.length === 0;
}

function focusElement(id) {
  const element = id && modeler.get('elementRegistry').get(id);
  if (!element) return;
  modeler.get('selection').select(element);
  modeler.get('canvas').scrollToElement(element);
  modeler.get('canvas').addMarker(element, 'motcua-focus');
  setTimeout(() => modeler.get('canvas').removeMarker(element, 'motcua-focus'), 2500);
}

async function payload() {
  return { bpmn: await current(), forms: draftForms };
}

async function saveDraft() {
  const { ok, json } = await call(data.urls.draft, await payload());
  status(ok ? M.saved : `${M.error}: ${json.message}`, ok ? 'ok' : 'error');
}

async function validate() {
  const { ok, json } = await call(data.urls.validate, await payload());
  if (!ok) { status(`${M.error}: ${json.message}`, 'error'); return; }
  showProblems(json.problems, json.warnings);
  status(json.valid ? M.valid : fmt(M.invalid, { n: json.problems.length }), json.valid ? 'ok' : 'error');
}

function setVersions(versions) {
  data.versions = versions;
  for (const sel of document.querySelectorAll('select[data-versions]')) {
    const keep = sel.value;
    sel.innerHTML = '';
    for (const v of versions) sel.add(new Option(`${M.version} ${v.version}`, String(v.version)));
    if (sel.dataset.versions === 'with-draft') sel.add(new Option(M.draft, 'draft'));
    if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }
}

async function deploy() {
  if (!window.confirm(M.confirm_deploy)) return;
  const { ok, json } = await call(data.urls.deploy, await payload());
  if (!ok) {
    if (json.problems) showProblems(json.problems, json.warnings);
    status(json.problems ? fmt(M.invalid, { n: json.problems.length }) : `${M.error}: ${json.message}`, 'error');
    return;
  }
  setVersions(json.versions);
  showProblems([], json.warnings);
  status(fmt(M.deployed, { v: json.version }) + (json.warnings.length ? ` — ${M.warnings}: ${json.warnings.length}` : ''),
    json.warnings.length ? 'warn' : 'ok');
  $('#deployed-version').textContent = String(json.version);
}

async function upload(file) {
  const text = await file.text();
  try {
    await open(text, fmt(M.uploaded, { f: file.name }));
    delete document.body.dataset.importError;
  } catch (e) {
    document.body.dataset.importError = e.message;
    document.body.dataset.imported = String(Date.now());
    status(`${M.import_error}: ${e.message}`, 'error');
  }
}

function download() {
  const v = $('#download-version').value;
  window.location.href = `${data.urls.bpmn.replace('__V__', v)}?download=1`;
}

async function downloadCurrent() {
  const blob = new Blob([await current()], { type: 'application/xml' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${data.procedure}.bpmn`;
  a.click();
  URL.revokeObjectURL(a.href);
}

async function compare() {
  const from = $('#compare-from').value;
  const to = $('#compare-to').value;
  const { ok, json } = await call(`${data.urls.diff}?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  if (!ok) { status(`${M.error}: ${json.message}`, 'error'); return; }
  if (comparing === null) comparing = await current();
  const resp = await fetch(data.urls.bpmn.replace('__V__', to), { credentials: 'same-origin' });
  await open(await resp.text());
  const panel = $('#diff-panel');
  panel.hidden = false;
  $('#diff-title').textContent = fmt(M.compare_title, { a: from, b: to === 'draft' ? M.draft : to });
  for (const kind of ['added', 'changed', 'removed']) {
    const ul = $(`#diff-${kind}`);
    ul.innerHTML = '';
    for (const id of json[kind]) {
      const li = document.createElement('li');
      const found = kind !== 'removed' && mark(id, `motcua-diff-${kind}`);
      li.textContent = id;
      if (found) {
        li.className = 'diff-link';
        li.tabIndex = 0;
        li.addEventListener('click', () => focusElement(id));
      }
      ul.appendChild(li);
    }
    $(`#diff-${kind}-count`).textContent = String(json[kind].length);
  }
  document.body.dataset.compare = `${json.added.length}/${json.changed.length}/${json.removed.length}`;
  if (!json.added.length && !json.changed.length && !json.removed.length) status(M.nothing_changed);
}

async function endCompare() {
  if (comparing !== null) {
    await open(comparing);
    comparing = null;
  }
  $('#diff-panel').hidden = true;
}

const formsDialog = new FormsDialog({
  dialog: $('#forms-dialog'),
  schemas: data.form_schemas,
  draftForms,
  messages: M,
  onSaved: (name) => {
    if (!data.forms.includes(name)) { data.forms.push(name); data.forms.sort(); }
    status(M.form_saved, 'ok');
  },
});

function bind(id, handler) {
  $(id).addEventListener('click', (e) => { e.preventDefault(); handler().catch((err) => status(`${M.error}: ${err.message}`, 'error')); });
}

bind('#btn-save', saveDraft);
bind('#btn-validate', validate);
bind('#btn-deploy', deploy);
bind('#btn-download', async () => download());
bind('#btn-download-current', downloadCurrent);
bind('#btn-compare', compare);
bind('#btn-compare-close', endCompare);
bind('#btn-forms', async () => formsDialog.open());
bind('#btn-problems-close', async () => { $('#problems-panel').hidden = true; clearMarkers(); });
$('#upload').addEventListener('change', (e) => { if (e.target.files[0]) upload(e.target.files[0]); e.target.value = ''; });

(async () => {
  try {
    const resp = await fetch(data.initial, { credentials: 'same-origin' });
    await open(await resp.text());
    document.body.dataset.ready = 'true';
  } catch (e) {
    status(`${M.import_error}: ${e.message}`, 'error');
    document.body.dataset.ready = 'error';
  }
})();

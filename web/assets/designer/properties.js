// The "motcua" group of the properties panel: who does a step (lane level/role, task override), how long it
// may take (deadline_days on tasks and on the process), which form it shows, and how an end event ends the case.
import { h } from '@bpmn-io/properties-panel/preact';
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { USER_TASK_TYPES, getProperty, processOf, setProperty } from './props.js';

function data() {
  return window.MOTCUA_DESIGNER || { levels: [], roles: [], forms: [], messages: {} };
}

function t(key, fallback) {
  return data().messages[key] || fallback;
}

function options(list, emptyLabel) {
  return () => [{ value: '', label: emptyLabel }, ...list().map((x) => ({ value: x.code, label: `${x.name} (${x.code})` }))];
}

function withUnknown(getOptions, value) {
  const opts = getOptions();
  if (value && !opts.some((o) => o.value === value)) {
    opts.push({ value, label: `${value} — ${t('unknown', 'không tồn tại')}` });
  }
  return opts;
}

function PropertySelect(props) {
  const { element, id, name, label, getOptions, target, description } = props;
  const injector = useService('injector');
  const bo = target(element);
  const getValue = () => getProperty(bo, name) || '';
  return h(SelectEntry, {
    element, id, label, description, getValue,
    setValue: (value) => setProperty(injector, element, bo, name, value),
    getOptions: () => withUnknown(getOptions, getValue()),
  });
}

function PropertyText(props) {
  const { element, id, name, label, target, description, validate } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const bo = target(element);
  return h(TextFieldEntry, {
    element, id, label, description, debounce, validate,
    getValue: () => getProperty(bo, name) || '',
    setValue: (value) => setProperty(injector, element, bo, name, (value || '').trim()),
  });
}

function validateDays(value) {
  if (value === undefined || value === null || value === '') return t('deadline_required', 'Bắt buộc: số ngày làm việc');
  if (!/^\d+(\.\d+)?$/.test(String(value).trim())) return t('deadline_number', 'Nhập số ngày làm việc, ví dụ 2 hoặc 0.5');
  return null;
}

const self = (element) => getBusinessObject(element);
const levels = () => data().levels;
const roles = () => data().roles;
const forms = () => data().forms.map((f) => ({ code: f, name: f }));

function entry(id, component, isEdited, extra) {
  return { id, component, isEdited, ...extra };
}

function entriesFor(element) {
  const bo = getBusinessObject(element);
  const out = [];
  const sel = (id, name, label, getOptions, emptyLabel, description, target = self) => entry(id, (p) => h(PropertySelect, {
    ...p, name, label, getOptions: options(getOptions, emptyLabel), target, description }), isSelectEntryEdited);
  const txt = (id, name, label, description, target = self, validate) => entry(id, (p) => h(PropertyText, {
    ...p, name, label, target, description, validate }), isTextFieldEntryEdited);

  if (is(element, 'bpmn:Lane')) {
    out.push(sel('motcua-level', 'level', t('level', 'Cấp xử lý'), levels, t('choose', '— chọn —')));
    out.push(sel('motcua-role', 'role', t('role', 'Vai trò'), roles, t('choose', '— chọn —')));
  } else if (USER_TASK_TYPES.includes(bo.$type)) {
    out.push(txt('motcua-deadline', 'deadline_days', t('step_deadline', 'Thời hạn bước (ngày làm việc)'),
      t('step_deadline_hint', 'Ví dụ 2 hoặc 0.5'), self, validateDays));
    out.push(sel('motcua-form', 'form', t('form', 'Biểu mẫu'), forms, t('no_form', '— không có —')));
    out.push(sel('motcua-task-level', 'level', t('level_override', 'Cấp (ghi đè làn)'), levels,
      t('from_lane', '— theo làn —')));
    out.push(sel('motcua-task-role', 'role', t('role_override', 'Vai trò (ghi đè làn)'), roles,
      t('from_lane', '— theo làn —')));
  } else if (is(element, 'bpmn:EndEvent')) {
    out.push(sel('motcua-result', 'result', t('result', 'Kết quả hồ sơ'), () => [
      { code: 'approved', name: t('approved', 'Giải quyết') }, { code: 'refused', name: t('refused', 'Từ chối') }],
    t('none', '— không —')));
  }
  if (processOf(bo)) {
    out.push(txt('motcua-process-deadline', 'deadline_days', t('legal_deadline', 'Thời hạn giải quyết theo luật (ngày làm việc)'),
      null, (el) => processOf(getBusinessObject(el)), validateDays));
  }
  return out;
}

export default function MotcuaPropertiesProvider(propertiesPanel) {
  this.getGroups = (element) => (groups) => {
    const entries = entriesFor(element);
    if (entries.length) {
      groups.splice(1, 0, { id: 'motcua', label: t('group', 'Một cửa (motcua)'), entries });
    }
    return groups;
  };
  propertiesPanel.registerProvider(500, this);
}
MotcuaPropertiesProvider.$inject = ['propertiesPanel'];

export const MotcuaPropertiesModule = {
  __init__: ['motcuaPropertiesProvider'],
  motcuaPropertiesProvider: ['type', MotcuaPropertiesProvider],
};

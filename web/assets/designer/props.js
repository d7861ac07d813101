// Reading and writing motcua's properties: <spiffworkflow:properties><spiffworkflow:property name value/>
// inside bpmn:extensionElements (docs/process-design.md), shared by the properties panel and the lint rules.

export const SPIFF_PROPERTIES = 'spiffworkflow:Properties';

function propertiesElement(bo) {
  const ext = bo && bo.get ? bo.get('extensionElements') : bo && bo.extensionElements;
  const values = (ext && (ext.get ? ext.get('values') : ext.values)) || [];
  return values.find((v) => v.$type === SPIFF_PROPERTIES);
}

/** The value of property `name` on a moddle element, or undefined. */
export function getProperty(bo, name) {
  const props = propertiesElement(bo);
  const list = (props && (props.get ? props.get('values') : props.values)) || [];
  const found = list.find((p) => p.name === name);
  return found ? found.value : undefined;
}

/** The process behind a root element or a participant. */
export function processOf(bo) {
  if (!bo) return null;
  if (bo.$type === 'bpmn:Participant') return bo.processRef || null;
  if (bo.$type === 'bpmn:Process') return bo;
  return null;
}

/**
 * Set (or, with an empty value, remove) property `name` on moddle element `bo`, as one undoable command.
 */
export function setProperty(injector, element, bo, name, value) {
  const bpmnFactory = injector.get('bpmnFactory');
  const commandStack = injector.get('commandStack');
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    if (value === '' || value == null) return;
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let props = ext.get('values').find((v) => v.$type === SPIFF_PROPERTIES);
  if (!props) {
    if (value === '' || value == null) return;
    props = bpmnFactory.create(SPIFF_PROPERTIES, { values: [] });
    props.$parent = ext;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: ext, properties: { values: [...ext.get('values'), props] } } });
  }
  const list = props.get('values');
  const existing = list.find((p) => p.name === name);
  if (value === '' || value == null) {
    if (!existing) return;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: props, properties: { values: list.filter((p) => p !== existing) } } });
  } else if (existing) {
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: existing, properties: { value: String(value) } } });
  } else {
    const prop = bpmnFactory.create('spiffworkflow:Property', { name, value: String(value) });
    prop.$parent = props;
    commands.push({ cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: props, properties: { values: [...list, prop] } } });
  }
  commandStack.execute('properties-panel.multi-command-executor', commands);
}

/** The lane holding flow node `node`, searching the process's (nested) lane sets. */
export function laneOf(node) {
  let container = node.$parent;
  while (container && !container.laneSets && container.$parent) container = container.$parent;
  const search = (laneSets) => {
    for (const set of laneSets || []) {
      for (const lane of set.lanes || []) {
        if ((lane.flowNodeRef || []).includes(node)) {
          return search(lane.childLaneSet ? [lane.childLaneSet] : []) || lane;
        }
      }
    }
    return null;
  };
  return container ? search(container.laneSets) : null;
}

export const USER_TASK_TYPES = ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:Task'];

// The case page's diagram: bpmn-js NavigatedViewer with completed / current / overdue steps marked.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

async function show() {
  const host = document.getElementById('diagram');
  const xmlNode = document.getElementById('bpmn-xml');
  if (!host || !xmlNode) return;
  const markers = JSON.parse(document.getElementById('bpmn-markers')?.textContent || '{}');
  const viewer = new NavigatedViewer({ container: host });
  try {
    await viewer.importXML(JSON.parse(xmlNode.textContent));
  } catch (err) {
    host.textContent = host.dataset.error || 'Không hiển thị được sơ đồ quy trình.';
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const mark = (ids, cls) => (ids || []).forEach((id) => { if (registry.get(id)) canvas.addMarker(id, cls); });
  mark(markers.completed, 'step-completed');
  mark(markers.current, 'step-current');
  mark(markers.overdue, 'step-overdue');
  canvas.zoom('fit-viewport', 'auto');
  host.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', show);

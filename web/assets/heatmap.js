// The diagram as a heatmap (/reports/heatmap): each step coloured by how many dossiers wait there now,
// outlined when some are overdue, with a badge linking to the cases behind the figure.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './heatmap.css';

function level(waiting, max) {
  if (!waiting || !max) return 0;
  return Math.max(1, Math.ceil((waiting / max) * 4));
}

async function show() {
  const host = document.getElementById('diagram');
  const xmlNode = document.getElementById('bpmn-xml');
  if (!host || !xmlNode) return;
  const heat = JSON.parse(document.getElementById('heat-data')?.textContent || '{}');
  const viewer = new NavigatedViewer({ container: host });
  try {
    await viewer.importXML(JSON.parse(xmlNode.textContent));
  } catch (err) {
    host.textContent = 'Không hiển thị được sơ đồ quy trình.';
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const overlays = viewer.get('overlays');
  Object.entries(heat.steps || {}).forEach(([id, s]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, `heat-${level(s.waiting, heat.max)}`);
    if (s.overdue) canvas.addMarker(id, 'heat-late');
    if (!s.waiting) return;
    const badge = document.createElement('a');
    badge.className = 'heat-badge' + (s.overdue ? ' heat-badge-late' : '');
    badge.href = s.url;
    badge.dataset.element = id;
    badge.textContent = String(s.waiting);
    badge.title = `${s.waiting} đang chờ · ${s.share}% quá hạn`;
    overlays.add(id, { position: { top: -12, right: 12 }, html: badge });
  });
  canvas.zoom('fit-viewport', 'auto');
  host.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', show);

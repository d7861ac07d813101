// The case page's diagram: bpmn-js NavigatedViewer with completed / current / overdue steps marked.
// It opens fitted to its width but never so small that labels fall under 10 px (then it scrolls sideways to the
// current step instead); +, − and "fit" buttons (rendered by the template, so their words are translated) zoom
// it; the mouse wheel scrolls the page until the diagram is clicked or focused, then it zooms the diagram.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './viewer.css';

// bpmn-js draws external labels at 11 px and the others at 12 px: at 0.95 the smallest is 10.45 px on screen.
const READABLE_SCALE = 0.95;
const MAX_FIT_SCALE = 1;
const MARGIN = 12; // px around the diagram when fitted
const MIN_HEIGHT = 220;

function fitReadable(canvas, host) {
  const { inner } = canvas.viewbox();
  if (!inner || !inner.width) return;
  const scale = Math.min(MAX_FIT_SCALE, Math.max(READABLE_SCALE, (host.clientWidth - 2 * MARGIN) / inner.width));
  // The frame is as tall as the diagram at that scale (within reason), so no blank band and no clipped lane.
  const wanted = Math.max(MIN_HEIGHT, Math.min(inner.height * scale + 2 * MARGIN, window.innerHeight * 0.75));
  host.style.height = `${Math.round(wanted)}px`;
  canvas.resized();
  const { width, height } = canvas.viewbox().outer; // the drawing area itself, inside the frame's border
  canvas.viewbox({
    x: inner.x - MARGIN / scale,
    y: inner.y - Math.max(MARGIN, (height - inner.height * scale) / 2) / scale,
    width: width / scale,
    height: height / scale,
  });
}

function scrollToCurrent(canvas, registry, ids) {
  const el = (ids || []).map((id) => registry.get(id)).find(Boolean);
  if (!el) return;
  const box = canvas.viewbox();
  if (el.x >= box.x && el.x + el.width <= box.x + box.width) return;
  // Bring the current step to the middle of the frame horizontally, keeping the vertical fit.
  canvas.viewbox({ ...box, x: Math.max(box.inner.x - MARGIN, el.x + el.width / 2 - box.width / 2) });
}

async function show() {
  const host = document.getElementById('diagram');
  const xmlNode = document.getElementById('bpmn-xml');
  if (!host || !xmlNode) return;
  const markers = JSON.parse(document.getElementById('bpmn-markers')?.textContent || '{}');
  // zoomScroll disabled: diagram-js would take every wheel event over the canvas away from the page.
  const viewer = new NavigatedViewer({ container: host, zoomScroll: { enabled: false } });
  try {
    await viewer.importXML(JSON.parse(xmlNode.textContent));
  } catch (err) {
    host.textContent = host.dataset.error || 'Không hiển thị được sơ đồ quy trình.';
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const zoomScroll = viewer.get('zoomScroll');
  const eventBus = viewer.get('eventBus');
  const mark = (ids, cls) => (ids || []).forEach((id) => { if (registry.get(id)) canvas.addMarker(id, cls); });
  mark(markers.completed, 'step-completed');
  mark(markers.current, 'step-current');
  mark(markers.overdue, 'step-overdue');

  const fit = () => {
    fitReadable(canvas, host);
    scrollToCurrent(canvas, registry, [...(markers.overdue || []), ...(markers.current || [])]);
  };
  fit();

  // The wheel belongs to the page until the diagram has focus (a click on it, or Tab to it).
  const frame = host.closest('.diagram-frame') || host;
  host.addEventListener('pointerdown', () => canvas.focus());
  eventBus.on('canvas.focus.changed', ({ focused }) => frame.classList.toggle('diagram-active', focused));
  host.addEventListener('wheel', (event) => {
    if (!canvas.isFocused()) return;
    event.preventDefault();
    if (event.shiftKey) {
      canvas.scroll({ dx: -event.deltaY, dy: 0 });
      return;
    }
    const rect = host.getBoundingClientRect();
    const lines = event.deltaMode === 0 ? 1 : 16;
    zoomScroll.zoom(-event.deltaY * lines * 0.015, { x: event.clientX - rect.left, y: event.clientY - rect.top });
  }, { passive: false });

  // Touch: diagram-js pans with the mouse only. A sideways swipe pans the diagram; an upward one stays the page's
  // (touch-action: pan-y in viewer.css hands vertical swipes to the browser, which then cancels our pointer).
  let touch = null;
  host.addEventListener('pointerdown', (event) => {
    if (event.pointerType !== 'mouse') touch = { id: event.pointerId, x: event.clientX };
  });
  host.addEventListener('pointermove', (event) => {
    if (!touch || event.pointerId !== touch.id) return;
    canvas.scroll({ dx: event.clientX - touch.x, dy: 0 });
    touch.x = event.clientX;
  });
  const release = (event) => { if (touch && event.pointerId === touch.id) touch = null; };
  host.addEventListener('pointerup', release);
  host.addEventListener('pointercancel', release);

  document.querySelectorAll('[data-zoom]').forEach((button) => {
    button.addEventListener('click', () => {
      const how = button.dataset.zoom;
      if (how === 'fit') fit();
      else zoomScroll.stepZoom(how === 'in' ? 1 : -1);
    });
  });
  let width = host.clientWidth;
  window.addEventListener('resize', () => {
    if (host.clientWidth !== width) { width = host.clientWidth; fit(); }
  });
  host.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', show);

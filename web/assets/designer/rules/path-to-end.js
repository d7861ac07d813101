// Every flow node must lie on a path that reaches an end event: no step where a case would be stuck.
const FLOW_NODE = /^bpmn:(.*Task|.*Event|.*Gateway|SubProcess|CallActivity)$/;

export default function pathToEnd() {
  function check(node, reporter) {
    if (node.$type !== 'bpmn:Process' && node.$type !== 'bpmn:SubProcess') return;
    const elements = node.flowElements || [];
    const nodes = elements.filter((e) => FLOW_NODE.test(e.$type) && e.$type !== 'bpmn:BoundaryEvent');
    const incoming = new Map(nodes.map((n) => [n, []]));
    for (const flow of elements.filter((e) => e.$type === 'bpmn:SequenceFlow')) {
      if (flow.targetRef && incoming.has(flow.targetRef) && flow.sourceRef) incoming.get(flow.targetRef).push(flow.sourceRef);
    }
    // Boundary events continue their host's path.
    for (const b of elements.filter((e) => e.$type === 'bpmn:BoundaryEvent')) {
      if (b.attachedToRef && incoming.has(b.attachedToRef)) {
        for (const flow of b.outgoing || []) incoming.get(b.attachedToRef).push(flow.targetRef);
      }
    }
    const ends = nodes.filter((n) => n.$type === 'bpmn:EndEvent');
    if (!ends.length) return; // end-event-required reports this
    const reached = new Set(ends);
    const queue = [...ends];
    while (queue.length) {
      for (const prev of incoming.get(queue.shift()) || []) {
        if (!reached.has(prev)) { reached.add(prev); queue.push(prev); }
      }
    }
    for (const n of nodes) {
      if (!reached.has(n) && !(n.$type === 'bpmn:StartEvent' && n.isInterrupting === false)) {
        reporter.report(n.id, 'Từ bước này không có đường tới sự kiện kết thúc');
      }
    }
  }
  return { check };
}

// Deadlines in working days: on every user task (the step's limit) and on the process (the legal limit).
import { getProperty, USER_TASK_TYPES } from '../props.js';

const NUMBER = /^\d+(\.\d+)?$/;

export default function deadlinesPresent() {
  function check(node, reporter) {
    if (USER_TASK_TYPES.includes(node.$type)) {
      if (!NUMBER.test((getProperty(node, 'deadline_days') || '').trim())) {
        reporter.report(node.id, 'Thiếu thời hạn bước (deadline_days, số ngày làm việc)');
      }
    } else if (node.$type === 'bpmn:Process' && (node.flowElements || []).length) {
      if (!NUMBER.test((getProperty(node, 'deadline_days') || '').trim())) {
        reporter.report(node.id, 'Thiếu thời hạn giải quyết của thủ tục (deadline_days trên quy trình)');
      }
    }
  }
  return { check };
}

// Every user task must be routable: a level and a role from its lane, or its own (engine/routing.py).
import { getProperty, laneOf, USER_TASK_TYPES } from '../props.js';

export default function userTaskRoutable() {
  function check(node, reporter) {
    if (!USER_TASK_TYPES.includes(node.$type)) return;
    const lane = laneOf(node);
    const level = getProperty(node, 'level') || (lane && getProperty(lane, 'level'));
    const role = getProperty(node, 'role') || (lane && getProperty(lane, 'role'));
    if (!level || !role) {
      reporter.report(node.id, 'Bước chưa xác định được người xử lý: đặt vào làn có cấp và vai trò, hoặc chọn cấp/vai trò cho bước');
    }
  }
  return { check };
}

// bpmnlint's packed configuration ({ config, resolver }), written by hand instead of bpmnlint-pack-config:
// the recommended rules plus motcua's own (plugin "motcua", resolved as package bpmnlint-plugin-motcua).
import adHocSubProcess from 'bpmnlint/rules/ad-hoc-sub-process';
import conditionalFlows from 'bpmnlint/rules/conditional-flows';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import eventBasedGateway from 'bpmnlint/rules/event-based-gateway';
import eventSubProcessTypedStartEvent from 'bpmnlint/rules/event-sub-process-typed-start-event';
import fakeJoin from 'bpmnlint/rules/fake-join';
import global from 'bpmnlint/rules/global';
import labelRequired from 'bpmnlint/rules/label-required';
import linkEvent from 'bpmnlint/rules/link-event';
import noBpmndi from 'bpmnlint/rules/no-bpmndi';
import noComplexGateway from 'bpmnlint/rules/no-complex-gateway';
import noDisconnected from 'bpmnlint/rules/no-disconnected';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import noGatewayJoinFork from 'bpmnlint/rules/no-gateway-join-fork';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import noImplicitEnd from 'bpmnlint/rules/no-implicit-end';
import noImplicitStart from 'bpmnlint/rules/no-implicit-start';
import noInclusiveGateway from 'bpmnlint/rules/no-inclusive-gateway';
import noOverlappingElements from 'bpmnlint/rules/no-overlapping-elements';
import singleBlankStartEvent from 'bpmnlint/rules/single-blank-start-event';
import singleEventDefinition from 'bpmnlint/rules/single-event-definition';
import startEventRequired from 'bpmnlint/rules/start-event-required';
import subProcessBlankStartEvent from 'bpmnlint/rules/sub-process-blank-start-event';
import superfluousGateway from 'bpmnlint/rules/superfluous-gateway';
import superfluousLabel from 'bpmnlint/rules/superfluous-label';
import superfluousTermination from 'bpmnlint/rules/superfluous-termination';

import deadlinesPresent from './rules/deadlines-present.js';
import pathToEnd from './rules/path-to-end.js';
import userTaskRoutable from './rules/user-task-routable.js';

const RULES = {
  'bpmnlint/ad-hoc-sub-process': [adHocSubProcess, 'error'],
  'bpmnlint/conditional-flows': [conditionalFlows, 'error'],
  'bpmnlint/end-event-required': [endEventRequired, 'error'],
  'bpmnlint/event-based-gateway': [eventBasedGateway, 'error'],
  'bpmnlint/event-sub-process-typed-start-event': [eventSubProcessTypedStartEvent, 'error'],
  'bpmnlint/fake-join': [fakeJoin, 'warn'],
  'bpmnlint/global': [global, 'warn'],
  'bpmnlint/label-required': [labelRequired, 'error'],
  'bpmnlint/link-event': [linkEvent, 'error'],
  'bpmnlint/no-bpmndi': [noBpmndi, 'error'],
  'bpmnlint/no-complex-gateway': [noComplexGateway, 'error'],
  'bpmnlint/no-disconnected': [noDisconnected, 'error'],
  'bpmnlint/no-duplicate-sequence-flows': [noDuplicateSequenceFlows, 'error'],
  'bpmnlint/no-gateway-join-fork': [noGatewayJoinFork, 'error'],
  'bpmnlint/no-implicit-split': [noImplicitSplit, 'error'],
  'bpmnlint/no-implicit-end': [noImplicitEnd, 'error'],
  'bpmnlint/no-implicit-start': [noImplicitStart, 'error'],
  'bpmnlint/no-inclusive-gateway': [noInclusiveGateway, 'warn'],
  'bpmnlint/no-overlapping-elements': [noOverlappingElements, 'warn'],
  'bpmnlint/single-blank-start-event': [singleBlankStartEvent, 'error'],
  'bpmnlint/single-event-definition': [singleEventDefinition, 'error'],
  'bpmnlint/start-event-required': [startEventRequired, 'error'],
  'bpmnlint/sub-process-blank-start-event': [subProcessBlankStartEvent, 'error'],
  'bpmnlint/superfluous-gateway': [superfluousGateway, 'warn'],
  'bpmnlint/superfluous-label': [superfluousLabel, 'warn'],
  'bpmnlint/superfluous-termination': [superfluousTermination, 'warn'],
  'bpmnlint-plugin-motcua/user-task-routable': [userTaskRoutable, 'error'],
  'bpmnlint-plugin-motcua/deadlines-present': [deadlinesPresent, 'error'],
  'bpmnlint-plugin-motcua/path-to-end': [pathToEnd, 'error'],
};

function configName(key) {
  return key.startsWith('bpmnlint/') ? key.slice('bpmnlint/'.length) : key.replace('bpmnlint-plugin-', '');
}

export const config = {
  rules: Object.fromEntries(Object.entries(RULES).map(([key, [, level]]) => [configName(key), level])),
};

export const resolver = {
  resolveRule(pkg, ruleName) {
    const found = RULES[`${pkg}/${ruleName}`];
    if (!found) throw new Error(`cannot resolve rule <${pkg}/${ruleName}>`);
    return found[0];
  },
  resolveConfig(pkg, configName) {
    throw new Error(`cannot resolve config <${configName}> in <${pkg}>`);
  },
};

export default { config, resolver };

// The designer's translate module (bpmn-js' customTranslate pattern): palette, context pad, replace menu,
// properties panel and lint messages in the page's language. Dictionaries: web/assets/i18n/bpmn-vi.js.
import { BPMN_VI, BPMN_VI_PATTERNS, MOTCUA_LINT_EN } from '../i18n/bpmn-vi.js';
import { makeTranslate, pageLanguage } from '../i18n/translate.js';

/** translate(template, replacements) for the page's language. */
export function designerTranslate(lang = pageLanguage()) {
  return lang === 'vi' ? makeTranslate(BPMN_VI, BPMN_VI_PATTERNS) : makeTranslate(MOTCUA_LINT_EN);
}

/** additionalModules entry replacing bpmn-js' `translate` service. */
export const TranslateModule = { translate: ['value', designerTranslate()] };

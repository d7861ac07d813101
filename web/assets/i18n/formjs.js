// form-js in the page's language: its validator's messages (a decorator of the `validator` service, so the
// messages are Vietnamese where form-js makes them) and flatpickr's calendar (Monday first, Vietnamese names,
// dd/mm/yyyy). English pages keep form-js' own words; dates stay dd/mm/yyyy and weeks start on Monday in both.
import flatpickr from 'flatpickr';
import { Vietnamese } from 'flatpickr/dist/l10n/vn.js';

import { FORMJS_VI, FORMJS_VI_PATTERNS } from './formjs-vi.js';
import { makeTranslate, pageLanguage } from './translate.js';

/** translate(text) for form-js' words in the page's language (identity on English pages). */
export function formJsTranslate(lang = pageLanguage()) {
  return lang === 'vi' ? makeTranslate(FORMJS_VI, FORMJS_VI_PATTERNS) : (text) => text;
}

function TranslatingValidator(validator) {
  const translate = formJsTranslate();
  for (const name of ['validateField', 'validateFieldInstance']) {
    const original = validator[name].bind(validator);
    validator[name] = (...args) => original(...args).map((message) => translate(message));
  }
}
TranslatingValidator.$inject = ['validator'];

/** additionalModules for a form-js Form: its validation messages in the page's language. */
export const FormJsMessagesModule = {
  __init__: ['motcuaTranslatingValidator'],
  motcuaTranslatingValidator: ['type', TranslatingValidator],
};

// flatpickr's own Vietnamese leaves its aria labels English ("Year", "Month", "Hour"…); these complete it.
const VIETNAMESE_CALENDAR = {
  ...Vietnamese,
  firstDayOfWeek: 1,
  scrollTitle: 'Cuộn để tăng',
  toggleTitle: 'Bấm để đổi',
  yearAriaLabel: 'Năm',
  monthAriaLabel: 'Tháng',
  hourAriaLabel: 'Giờ',
  minuteAriaLabel: 'Phút',
  weekAbbreviation: 'Tuần',
  time_24hr: true,
};

/**
 * Dates the Vietnamese way: form-js takes the picker's date format from the browser's default locale, so the
 * default locale is Vietnamese here (dd/mm/yyyy whatever the browser's language); the calendar speaks the
 * page's language and starts weeks on Monday.
 */
export function localizeDates(lang = pageLanguage()) {
  const Native = Intl.DateTimeFormat;
  if (!Native.motcuaVietnamese) {
    const VietnameseByDefault = function VietnameseByDefault(locale, options) {
      return new Native(locale === undefined || locale === 'default' ? 'vi-VN' : locale, options);
    };
    VietnameseByDefault.prototype = Native.prototype;
    VietnameseByDefault.supportedLocalesOf = Native.supportedLocalesOf;
    VietnameseByDefault.motcuaVietnamese = true;
    Intl.DateTimeFormat = VietnameseByDefault;
  }
  flatpickr.localize(lang === 'vi' ? VIETNAMESE_CALENDAR : { firstDayOfWeek: 1 });
}

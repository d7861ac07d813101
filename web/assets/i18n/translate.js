// Words of the third-party widgets (bpmn-js, its properties panel, bpmnlint, form-js, flatpickr) in the page's
// language. The page says its language on <html lang> (the header's switch, web/pages/__init__.py); Vietnamese
// is first, and English is what the widgets already speak, so English needs no dictionary of its own except
// for motcua's own Vietnamese words (its lint rules).

/** 'vi' or 'en', from <html lang>; Vietnamese unless the page says English. */
export function pageLanguage() {
  return (document.documentElement.lang || 'vi').toLowerCase().startsWith('en') ? 'en' : 'vi';
}

function fill(template, replacements) {
  return template.replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
}

/**
 * A bpmn-js style translate(template, replacements): the dictionary's words for exact templates, then the
 * patterns (RegExp → function of the match) for messages built with values inside (bpmnlint, form-js
 * validation); anything unknown stays as it is.
 */
export function makeTranslate(words, patterns = []) {
  return function translate(template, replacements) {
    if (typeof template !== 'string') return template;
    if (Object.prototype.hasOwnProperty.call(words, template)) return fill(words[template], replacements);
    for (const [re, make] of patterns) {
      const m = template.match(re);
      if (m) return make(...m.slice(1));
    }
    return fill(template, replacements);
  };
}

const ATTRIBUTES = ['title', 'placeholder', 'aria-label', 'data-title'];
// Diagram labels (SVG) and code are data, never translated.
const SKIP = new Set(['SCRIPT', 'STYLE', 'TEXTAREA', 'CODE', 'svg']);

function translateText(node, translate) {
  const text = node.nodeValue;
  const trimmed = text.trim();
  if (!trimmed) return;
  const done = translate(trimmed);
  if (done !== trimmed) node.nodeValue = text.replace(trimmed, done);
}

function translateElement(el, translate) {
  for (const name of ATTRIBUTES) {
    const value = el.getAttribute(name);
    if (value && value.trim()) {
      const done = translate(value.trim());
      if (done !== value.trim()) el.setAttribute(name, done);
    }
  }
}

function walk(root, translate) {
  if (root.nodeType === Node.TEXT_NODE) {
    if (!SKIP.has(root.parentNode && root.parentNode.nodeName)) translateText(root, translate);
    return;
  }
  if (root.nodeType !== Node.ELEMENT_NODE || SKIP.has(root.nodeName) || root.isContentEditable) return;
  translateElement(root, translate);
  for (const child of root.childNodes) walk(child, translate);
}

/**
 * For widgets that write English literals into the page without any translate hook (form-js' select, search
 * and date-time components, diagram-js' popup menu chrome): translate text nodes and the title, placeholder and
 * aria-label attributes under `root` whose whole text is a known phrase, now and whenever the widget renders.
 * Only whole phrases from the dictionary change, and only as text (nodeValue/setAttribute), never as markup;
 * what people type (inputs, textareas, editable text) is never touched.
 */
export function translateTree(root, translate) {
  if (!root) return null;
  walk(root, translate);
  const observer = new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'characterData') walk(m.target, translate);
      else if (m.type === 'attributes') translateElement(m.target, translate);
      else m.addedNodes.forEach((n) => walk(n, translate));
    }
  });
  observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ATTRIBUTES });
  return observer;
}

import { escapeHtml } from '../report/escape-html.ts';

/**
 * Markup the dashboard built itself. Only `html` (every interpolation escaped) and `trustedHtml`
 * (our own constants and the SVG charts, whose labels svgBarChart escapes) make one, so a string a
 * package controls can never reach the page unescaped.
 */
export class SafeHtml {
  readonly #text: string;
  constructor(text: string, token: symbol) {
    if (token !== TOKEN) throw new Error('SafeHtml is built by html`...` or trustedHtml() only');
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

const TOKEN = Symbol('SafeHtml');

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function _render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map((v: Value) => _render(v)).join('');
  return escapeHtml(String(value));
}

/** The one way to write markup: every `${value}` is escaped, unless it is SafeHtml already. */
export function html(strings: TemplateStringsArray, ...values: readonly Value[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += _render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out, TOKEN);
}

/** Markup from our own code (constants, svgBarChart): never pass package-controlled text. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup, TOKEN);
}

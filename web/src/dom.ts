/**
 * A small element builder. Text always goes in as text nodes and attributes through
 * setAttribute, never through innerHTML, so data from the API or a device can never become markup.
 */

export type Child = Node | string | number | null | undefined | false;

type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Handler>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      if (!name.startsWith('on')) throw new Error(`${name}: only on* attributes take a function`);
      el.addEventListener(name.slice(2), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

let ids = 0;
/** A document-unique id, to tie a label or description to its control. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form control; the hint is announced with it. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLDivElement {
  control.id ||= uid('f');
  const hintEl = hint === undefined ? undefined : h('p', { class: 'hint', id: `${control.id}-hint` }, hint);
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** For people: three decimals, or four significant digits below 1 (the CSV has every digit). */
export function formatNumber(n: number): string {
  return Math.abs(n) >= 1 || n === 0 ? n.toLocaleString(undefined, { maximumFractionDigits: 3 }) : n.toLocaleString(undefined, { maximumSignificantDigits: 4 });
}

/** The page's one date-time style: local, 24-hour. */
const DATE_TIME: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
};
const dateTime = new Intl.DateTimeFormat(undefined, { ...DATE_TIME, fractionalSecondDigits: 3 });

/** Local date and time of an ISO timestamp, milliseconds shown. */
export function formatTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}

const dateTimeToSecond = new Intl.DateTimeFormat(undefined, DATE_TIME);

/** Local date and time to the second (a range's ends). */
export function formatInstant(ms: number): string {
  return dateTimeToSecond.format(ms);
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dayAndClock = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** Local time of day for today's timestamps, day and time for older ones. */
export function formatRecentTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms).toDateString() === new Date().toDateString() ? clock.format(ms) : dayAndClock.format(ms);
}

/** A <time> element: local time as text, the API's exact UTC value in datetime and title. */
export function timeEl(iso: string, compact = false): HTMLTimeElement {
  return h('time', { datetime: iso, title: iso }, compact ? formatRecentTime(iso) : formatTime(iso));
}

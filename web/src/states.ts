import { ApiError, SessionExpiredError } from './api';
import { h } from './dom';

/** The loading, empty and error states every view shows the same way. */

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export function loadingState(text = 'Loading…'): HTMLElement {
  return h('p', { class: 'state state-loading', role: 'status' }, text);
}

export function emptyState(text: string): HTMLElement {
  return h('p', { class: 'state state-empty' }, text);
}

export function noticeState(text: string): HTMLElement {
  return h('p', { class: 'state state-notice', role: 'status' }, text);
}

function headline(err: unknown): string {
  if (err instanceof SessionExpiredError) return 'Your session has expired.';
  if (err instanceof ApiError) {
    if (err.status === 403) return 'You are not allowed to do this.';
    if (err.status === 404) return 'Not found.';
    if (err.status === 429) return 'Too many requests.';
    if (err.status >= 500) return 'The server could not answer.';
    return err.title;
  }
  return 'Something went wrong.';
}

/** An alert with the API's problem `detail` (and each invalid field), plus an optional retry. */
export function errorState(err: unknown, retry?: () => void): HTMLElement {
  const detail = err instanceof Error ? err.message : String(err);
  const fields = err instanceof ApiError && err.errors.length > 0 ? h('ul', {}, ...err.errors.map((e) => h('li', {}, `${e.field}: ${e.message}`))) : null;
  const ref = err instanceof ApiError && err.requestId ? h('p', { class: 'hint' }, `Request id: ${err.requestId}`) : null;
  return h(
    'div',
    { class: 'state state-error', role: 'alert' },
    h('strong', {}, headline(err)),
    ' ',
    detail,
    fields,
    ref,
    retry ? h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Try again')) : null,
  );
}

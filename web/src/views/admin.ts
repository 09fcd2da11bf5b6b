import type { Page, Query } from '../api';
import type { ViewContext } from '../context';
import { h, replace } from '../dom';
import type { Child } from '../dom';
import type { AdminSection } from '../router';
import { ADMIN_SECTIONS } from '../router';
import { emptyState, errorState, isAbort, loadingState } from '../states';
import { auditView } from './admin-audit';
import { experimentsAdminView } from './admin-experiments';
import { measureTypesView } from './admin-measure-types';
import { rejectionsView } from './admin-rejections';
import { usersView } from './admin-users';

export function adminView(root: HTMLElement, ctx: ViewContext, section: AdminSection, params: URLSearchParams): void {
  const title = ADMIN_SECTIONS.find((s) => s.section === section)?.title ?? section;
  const heading = ctx.title(title);
  const body = h('div', {});
  replace(root, heading, body);
  switch (section) {
    case 'users':
      return usersView(body, ctx);
    case 'experiments':
      return experimentsAdminView(body, ctx);
    case 'measure-types':
      return measureTypesView(body, ctx);
    case 'rejections':
      return rejectionsView(body, ctx, params);
    case 'audit':
      return auditView(body, ctx, params);
  }
}

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => Child;
  readonly numeric?: boolean;
}

export function table<T>(caption: string, columns: ReadonlyArray<Column<T>>, rows: readonly T[], rowAttrs?: (row: T) => Record<string, string>): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c.header)))),
      h('tbody', {}, ...rows.map((r) => h('tr', rowAttrs?.(r) ?? {}, ...columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.cell(r)))))),
    ),
  );
}

/**
 * A newest-first listing read page by page through the API's Link headers, with a "Load more"
 * button; rows already shown stay while the next page loads.
 */
export function pagedTable<T>(
  target: HTMLElement,
  ctx: ViewContext,
  opts: {
    readonly caption: string;
    readonly path: string;
    readonly query: Query;
    readonly row: (v: unknown) => T;
    readonly columns: ReadonlyArray<Column<T>>;
    readonly empty: string;
  },
): void {
  const rows: T[] = [];
  let next: string | undefined;
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load more');
  const pager = h('div', { class: 'pager' });
  const status = h('div', {});

  const fetchPage = (first: boolean): void => {
    more.disabled = true;
    replace(status, loadingState(first ? 'Loading…' : 'Loading more…'));
    const request: Promise<Page<T>> = first
      ? ctx.api.page(opts.path, opts.row, { query: opts.query, signal: ctx.signal })
      : ctx.api.page(next ?? opts.path, opts.row, { signal: ctx.signal });
    request
      .then((page) => {
        rows.push(...page.rows);
        next = page.next;
        replace(status);
        replace(target, rows.length === 0 ? emptyState(opts.empty) : table(opts.caption, opts.columns, rows), pager, status);
        replace(pager, next ? more : null, h('span', { class: 'hint', role: 'status' }, ` ${rows.length} shown${next ? '' : ', all loaded'}`));
        more.disabled = false;
      })
      .catch((err: unknown) => {
        if (isAbort(err)) return;
        more.disabled = false;
        replace(status, errorState(err, () => fetchPage(first)));
      });
  };
  more.addEventListener('click', () => fetchPage(false));
  replace(target, status);
  fetchPage(true);
}

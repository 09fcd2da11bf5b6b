import type { ViewContext } from '../context';
import { field, h, replace, timeEl } from '../dom';
import { input } from '../forms';
import { auditEvent } from '../models';
import { adminHref } from '../router';
import { pagedTable } from './admin';

/** The audit trail, newest first, filtered by actor and action. */
export function auditView(root: HTMLElement, ctx: ViewContext, params: URLSearchParams): void {
  const actor = input('actor', { value: params.get('actor') ?? '', autocomplete: 'off', pattern: '[A-Za-z0-9_-]{1,32}' });
  const action = input('action', { value: params.get('action') ?? '', autocomplete: 'off', list: 'audit-actions' });
  const actions = h(
    'datalist',
    { id: 'audit-actions' },
    ...[
      'measures.read',
      'measures.export',
      'user.create',
      'user.update',
      'user.erase',
      'experiment.create',
      'experiment.rename',
      'association.create',
      'association.delete',
      'measure_type.create',
    ].map((a) => h('option', { value: a })),
  );
  const results = h('div', {});
  const form = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Filter the audit trail', novalidate: true },
    field('Actor (staff id)', actor, 'e.g. S001'),
    field('Action', action, 'e.g. measures.read'),
    actions,
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'reset', class: 'secondary' }, 'Clear'),
  );
  const apply = (): void => {
    const qs = new URLSearchParams();
    if (actor.value.trim()) qs.set('actor', actor.value.trim());
    if (action.value.trim()) qs.set('action', action.value.trim());
    history.replaceState(null, '', `${adminHref('audit')}${qs.size ? `?${qs.toString()}` : ''}`);
    show();
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  // After the reset has emptied the fields.
  form.addEventListener('reset', () => window.setTimeout(apply, 0));

  const show = (): void =>
    pagedTable(results, ctx, {
      caption: 'Audit events, newest first',
      path: '/audit/',
      query: { actor: actor.value.trim() || undefined, action: action.value.trim() || undefined, limit: 100 },
      row: auditEvent,
      empty: 'No audit events match these filters.',
      columns: [
        { header: 'Time', cell: (a) => timeEl(a.occurred_at) },
        { header: 'Actor', cell: (a) => a.actor_id ?? (a.actor_uid ? h('span', { class: 'mono', title: 'Firebase uid unknown to MyMONIT' }, a.actor_uid) : '—') },
        { header: 'Action', cell: (a) => h('span', { class: 'mono' }, a.action) },
        { header: 'Target', cell: (a) => (a.target_type ? `${a.target_type} ${a.target_id ?? ''}`.trim() : '—') },
        { header: 'Outcome', cell: (a) => h('span', { class: `outcome outcome-${a.outcome}` }, a.outcome) },
        { header: 'IP', cell: (a) => a.ip ?? '—' },
        {
          header: 'Details',
          cell: (a) => (a.details === null ? '—' : h('details', {}, h('summary', {}, 'Show'), h('pre', {}, JSON.stringify(a.details, null, 2)))),
        },
      ],
    });

  replace(root, form, results);
  show();
}

import type { ViewContext } from '../context';
import { field, h, replace, timeEl } from '../dom';
import { select } from '../forms';
import { rejection } from '../models';
import { adminHref } from '../router';
import { pagedTable } from './admin';

const REASONS = [
  ['', 'All reasons'],
  ['invalid_json', 'Invalid JSON'],
  ['invalid_measure', 'Invalid measure'],
  ['unknown_experiment', 'Unknown experiment'],
  ['unknown_measure_type', 'Unknown measure type'],
] as const;

/** Messages ingest could not store: why, and the raw text as received. */
export function rejectionsView(root: HTMLElement, ctx: ViewContext, params: URLSearchParams): void {
  const reason = select('reason', REASONS, params.get('reason') ?? '');
  const results = h('div', {});
  const form = h('form', { class: 'toolbar', 'aria-label': 'Filter rejected messages' }, field('Reason', reason));
  reason.addEventListener('change', () => {
    const qs = reason.value ? `?${new URLSearchParams({ reason: reason.value }).toString()}` : '';
    history.replaceState(null, '', `${adminHref('rejections')}${qs}`);
    show();
  });
  form.addEventListener('submit', (event) => event.preventDefault());

  const show = (): void =>
    pagedTable(results, ctx, {
      caption: 'Rejected messages, newest first',
      path: '/rejections/',
      query: { reason: reason.value || undefined, limit: 50 },
      row: rejection,
      empty: reason.value ? 'No rejected messages with this reason.' : 'No rejected messages. Everything sent so far was stored.',
      columns: [
        { header: 'Received', cell: (r) => timeEl(r.received_at) },
        { header: 'Reason', cell: (r) => h('span', { class: 'mono' }, r.reason) },
        { header: 'Detail', cell: (r) => r.detail },
        { header: 'Message id', cell: (r) => (r.message_id === null ? '—' : h('span', { class: 'mono' }, r.message_id)) },
        {
          header: 'Raw payload',
          cell: (r) =>
            h(
              'details',
              {},
              h('summary', {}, `Show (${r.raw.length} characters${r.raw_truncated ? ', truncated' : ''})`),
              h('pre', {}, r.raw),
            ),
        },
      ],
    });

  replace(root, form, results);
  show();
}

/** Time ranges of the experiment view, kept in the URL (#/experiments/3?last=1h) so a view can be bookmarked. */

export const PRESETS = [
  { key: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'Last hour', ms: 3_600_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 3_600_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
  { key: '1y', label: 'Last year', ms: 365 * 86_400_000 },
] as const;

export type PresetKey = (typeof PRESETS)[number]['key'];

export type TimeRange =
  | { readonly kind: 'last'; readonly key: PresetKey; readonly ms: number }
  | { readonly kind: 'between'; readonly from: number; readonly to: number };

export const DEFAULT_RANGE: TimeRange = { kind: 'last', key: '1h', ms: 3_600_000 };

export function preset(key: string): TimeRange | undefined {
  const p = PRESETS.find((x) => x.key === key);
  return p ? { kind: 'last', key: p.key, ms: p.ms } : undefined;
}

/** [from, to) in epoch ms; a "last" range ends now. */
export function bounds(r: TimeRange, now = Date.now()): { from: number; to: number } {
  return r.kind === 'last' ? { from: now - r.ms, to: now } : { from: r.from, to: r.to };
}

/** Whether measures arriving now belong in the range (it is live). */
export function isLive(r: TimeRange, now = Date.now()): boolean {
  return r.kind === 'last' || r.to > now;
}

export function rangeFromParams(p: URLSearchParams): TimeRange {
  const last = p.get('last');
  if (last !== null) return preset(last) ?? DEFAULT_RANGE;
  const from = Date.parse(p.get('from') ?? '');
  const to = Date.parse(p.get('to') ?? '');
  return Number.isFinite(from) && Number.isFinite(to) && from < to ? { kind: 'between', from, to } : DEFAULT_RANGE;
}

export function rangeToParams(r: TimeRange): URLSearchParams {
  return r.kind === 'last'
    ? new URLSearchParams({ last: r.key })
    : new URLSearchParams({ from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() });
}

/** Value of an <input type="datetime-local" step="1"> for epoch ms, in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Epoch ms of a datetime-local value (local time), NaN when empty or invalid. */
export function fromLocalInput(v: string): number {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? new Date(v).getTime() : Number.NaN;
}

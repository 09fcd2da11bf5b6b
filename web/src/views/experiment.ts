import { MeasureChart } from '../chart';
import type { ViewContext } from '../context';
import { field, formatInstant, formatNumber, h, replace, timeEl, uid } from '../dom';
import { formStatus, input, select } from '../forms';
import { downloadCsv, readAggregate, readRaw } from '../measure-data';
import type { Bucket } from '../measure-data';
import { experiment, list, measureType } from '../models';
import type { Measure } from '../models';
import { bounds, fromLocalInput, isLive, PRESETS, preset, rangeFromParams, rangeToParams, toLocalInput } from '../ranges';
import type { TimeRange } from '../ranges';
import { experimentHref } from '../router';
import { AggregateSeries, describeInterval, pickInterval, RawSeries } from '../series';
import type { Interval } from '../series';
import { emptyState, errorState, isAbort, loadingState, noticeState } from '../states';
import { followMeasures } from '../streams';
import type { LiveState } from '../streams';

/** Above this many measures in the range the charts show aggregates (when the API has them). */
const RAW_LIMIT = 100_000;
/** About one bucket per horizontal pixel of a wide chart. */
const MAX_BUCKETS = 1_000;

const LIVE_TEXT: Record<LiveState | 'paused' | 'off', string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Live updates unavailable',
  paused: 'Not live: past range',
  off: 'Live updates unavailable',
};

interface TypeView {
  readonly name: string;
  readonly section: HTMLElement;
  readonly canvas: HTMLElement;
  readonly legend: HTMLElement;
  readonly caption: HTMLElement;
  readonly data: RawSeries | AggregateSeries;
  chart: MeasureChart | undefined;
}

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** One experiment: a chart per measure type, a time-range picker, live updates, latest values, CSV. */
export function experimentView(root: HTMLElement, ctx: ViewContext, experimentId: number, params: URLSearchParams): void {
  let range: TimeRange = rangeFromParams(params);
  let name = `Experiment #${experimentId}`;
  let units = new Map<string, string>();
  const heading = ctx.title(name);

  // ── Controls ──
  const rangeSelect = select('range', [...PRESETS.map((p): [string, string] => [p.key, p.label]), ['custom', 'Custom range…']], range.kind === 'last' ? range.key : 'custom');
  const fromInput = input('from', { type: 'datetime-local', step: 1, required: true });
  const toInput = input('to', { type: 'datetime-local', step: 1, required: true });
  const custom = h('div', { class: 'form-row', hidden: range.kind !== 'between' }, field('From', fromInput), field('To', toInput), h('button', { type: 'submit' }, 'Show'));
  const rangeStatus = formStatus();
  const rangeForm = h('form', { class: 'toolbar', novalidate: true }, field('Time range', rangeSelect, `Times in ${timeZone}`), custom);
  const liveBadge = h('span', { class: 'live', 'data-state': 'off' }, LIVE_TEXT.off);
  const csvButton = h('button', { type: 'button', class: 'secondary' }, 'Download CSV');
  const csvStatus = formStatus();
  // Not a live region: it changes with every live measure; load results are announced once instead.
  const summary = h('p', { class: 'summary' });
  const charts = h('div', { class: 'charts' });
  const latestBody = h('div', {});

  replace(
    root,
    h('p', {}, h('a', { href: '#/experiments' }, '← My experiments')),
    heading,
    rangeForm,
    rangeStatus,
    h('div', { class: 'statusbar' }, summary, liveBadge, csvButton),
    csvStatus,
    h(
      'div',
      { class: 'layout-experiment' },
      h('div', {}, charts),
      // Not a named region: the table's scrollable wrapper is already the "Latest values" region.
      h('section', {}, h('h2', {}, 'Latest values'), latestBody),
    ),
  );

  const fillCustom = (): void => {
    const b = bounds(range);
    fromInput.value = toLocalInput(b.from);
    toInput.value = toLocalInput(b.to);
  };
  fillCustom();

  // ── State ──
  const types = new Map<string, TypeView>();
  const latest = new Map<string, Measure>();
  let mode: { kind: 'raw'; truncated: boolean } | { kind: 'aggregate'; interval: Interval; lastBuckets: Map<string, Bucket> } = { kind: 'raw', truncated: false };
  let loading = false;
  let buffered: Measure[] = [];
  let loadControl: AbortController | undefined;
  let frame = 0;

  const unitOf = (type: string): string => units.get(type) ?? '';

  const clear = (): void => {
    for (const t of types.values()) t.chart?.destroy();
    types.clear();
    latest.clear();
    replace(charts);
  };
  ctx.signal.addEventListener('abort', () => {
    loadControl?.abort();
    cancelAnimationFrame(frame);
    clear();
  });

  const typeView = (type: string): TypeView => {
    const found = types.get(type);
    if (found) return found;
    const titleId = uid('chart');
    const unit = unitOf(type);
    const canvas = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': `Chart of ${type} over time. The values are also in the latest values table.` });
    // Beside the image, not in it: the legend's buttons hide and show each line.
    const legend = h('div', { class: 'chart-legend', role: 'group', 'aria-label': 'Show or hide lines' });
    const caption = h('figcaption', { id: `${titleId}-caption` });
    const section = h(
      'figure',
      { class: 'chart', 'data-measure-type': type, 'aria-labelledby': titleId, 'aria-describedby': caption.id },
      h('h2', { id: titleId }, unit ? `${type} (${unit})` : type),
      canvas,
      legend,
      caption,
    );
    const data = mode.kind === 'aggregate' ? new AggregateSeries(mode.interval) : new RawSeries();
    const view: TypeView = { name: type, section, canvas, legend, caption, data, chart: undefined };
    // The first chart replaces an empty or loading state.
    if (types.size === 0) replace(charts);
    types.set(type, view);
    // Keep charts in name order, whenever a type first appears.
    const after = [...types.keys()].sort().find((k) => k > type);
    const next = after === undefined ? null : (types.get(after)?.section ?? null);
    charts.insertBefore(section, next);
    return view;
  };

  const newer = (a: Measure, b: Measure | undefined): boolean => !b || a.timestamp >= b.timestamp;
  const noteLatest = (m: Measure): void => {
    const key = `${m.measure_type}\u0000${m.source}`;
    if (newer(m, latest.get(key))) latest.set(key, m);
  };

  const addMeasure = (m: Measure): void => {
    const v = typeView(m.measure_type);
    const x = Date.parse(m.timestamp) / 1000;
    if (v.data instanceof RawSeries) v.data.add(x, m.source, m.value);
    else v.data.addPoint(x, m.value);
    noteLatest(m);
  };

  // ── Rendering ──
  // The table stays in place across live updates (only its rows change), so keyboard focus on it survives.
  const latestRows = h('tbody', {});
  const latestTable = h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Latest values' },
    h(
      'table',
      { id: 'latest-values' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Measure'), h('th', { scope: 'col' }, 'Source'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Time'))),
      latestRows,
    ),
  );
  const renderLatest = (): void => {
    const rows = [...latest.values()].sort((a, b) => a.measure_type.localeCompare(b.measure_type) || a.source.localeCompare(b.source));
    const aggregateRows = mode.kind === 'aggregate' ? [...mode.lastBuckets.values()].filter((b) => !rows.some((r) => r.measure_type === b.measureType)) : [];
    if (rows.length === 0 && aggregateRows.length === 0) {
      replace(latestBody, emptyState('No measures in this range yet.'));
      return;
    }
    if (latestTable.parentNode !== latestBody) replace(latestBody, latestTable);
    const intervalText = mode.kind === 'aggregate' ? describeInterval(mode.interval) : '';
    replace(
      latestRows,
      ...rows.map((m) =>
        h(
          'tr',
          { 'data-measure-type': m.measure_type, 'data-source': m.source },
          h('td', {}, m.measure_type),
          h('td', {}, m.source === '' ? '—' : m.source),
          h('td', { class: 'num' }, `${formatNumber(m.value)} ${unitOf(m.measure_type)}`.trim()),
          h('td', {}, timeEl(m.timestamp, true)),
        ),
      ),
      ...aggregateRows.map((b) =>
        h(
          'tr',
          { 'data-measure-type': b.measureType },
          h('td', {}, b.measureType),
          h('td', { title: `Average over all sources of the last ${intervalText} with data` }, 'all (average)'),
          h('td', { class: 'num' }, b.avg === null ? '—' : `${formatNumber(b.avg)} ${unitOf(b.measureType)}`.trim()),
          h('td', {}, timeEl(new Date(b.start).toISOString(), true)),
        ),
      ),
    );
  };

  const renderSummary = (): void => {
    const { from, to } = bounds(range);
    const span = `${formatInstant(from)} – ${range.kind === 'last' ? 'now' : formatInstant(to)}`;
    const total = [...types.values()].reduce((n, t) => n + t.data.count, 0);
    if (mode.kind === 'aggregate') {
      summary.textContent = `${formatNumber(total)} measures, ${span}, shown as averages per ${describeInterval(mode.interval)} with min–max bands. Choose a shorter range, or drag across a chart, to see every point.`;
    } else {
      summary.textContent = `${formatNumber(total)} measures, ${span}.`;
    }
  };

  const draw = (): void => {
    const { from } = bounds(range);
    for (const t of types.values()) {
      if (range.kind === 'last') t.data.trimBefore(from / 1000);
      const drawn = t.data instanceof RawSeries ? t.data.count : t.data.xs.length;
      t.section.setAttribute('data-points', String(drawn));
      t.section.setAttribute('data-mode', t.data instanceof RawSeries ? 'raw' : 'aggregate');
      t.caption.textContent =
        t.data instanceof RawSeries
          ? `${formatNumber(drawn)} points`
          : `${formatNumber(drawn)} averages per ${describeInterval(t.data.interval)} of ${formatNumber(t.data.count)} measures`;
      if (t.chart) t.chart.redraw();
      else
        t.chart = new MeasureChart(t.canvas, t.data, {
          unit: unitOf(t.name),
          range: () => bounds(range),
          onZoom: (a, b) => setRange({ kind: 'between', from: a, to: b }),
          legend: t.legend,
        });
    }
    renderSummary();
    renderLatest();
  };

  const scheduleDraw = (): void => {
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  };

  // ── Live ──
  let following: AbortController | undefined;
  const setLive = (state: LiveState | 'paused' | 'off', detail?: string): void => {
    liveBadge.setAttribute('data-state', state);
    liveBadge.textContent = LIVE_TEXT[state];
    liveBadge.title = detail ?? '';
  };
  if (!ctx.caps.stream) setLive('off', 'This API has no live stream endpoint.');
  else setLive(isLive(range) ? 'connecting' : 'paused');

  const onLive = (measures: Measure[]): void => {
    if (loading) {
      buffered.push(...measures);
      return;
    }
    if (!isLive(range)) return;
    const { from, to } = bounds(range);
    let added = 0;
    for (const m of measures) {
      const t = Date.parse(m.timestamp);
      // "Last hour" ends now, but a device clock a little ahead of ours still belongs in it.
      if (t < from || (range.kind === 'between' && t >= to)) continue;
      addMeasure(m);
      added += 1;
    }
    if (added > 0) scheduleDraw();
  };

  /**
   * Follows the stream only while the range reaches the present: a past range needs no updates,
   * and each open stream costs the server a poll a second (and one of the person's few slots).
   */
  const syncLive = (): void => {
    if (!ctx.caps.stream) return;
    if (!isLive(range)) {
      following?.abort();
      following = undefined;
      setLive('paused');
      return;
    }
    if (following) return;
    const control = new AbortController();
    following = control;
    ctx.signal.addEventListener('abort', () => control.abort());
    void followMeasures(ctx.api, experimentId, control.signal, {
      onMeasures: onLive,
      onState: (state, detail) => {
        if (!control.signal.aborted) setLive(state, detail);
      },
    });
  };

  // ── Loading a range ──
  const showAggregate = (buckets: readonly Bucket[], interval: Interval): void => {
    const lastBuckets = new Map<string, Bucket>();
    mode = { kind: 'aggregate', interval, lastBuckets };
    for (const b of buckets) {
      const data = typeView(b.measureType).data;
      if (data instanceof AggregateSeries) data.addBucket(b.start / 1000, b.avg, b.min, b.max, b.count);
      if (b.count > 0 && (lastBuckets.get(b.measureType)?.start ?? -Infinity) < b.start) lastBuckets.set(b.measureType, b);
    }
  };

  const finish = (): void => {
    loading = false;
    const late = buffered;
    buffered = [];
    onLive(late);
    if (types.size === 0) {
      replace(charts, emptyState(isLive(range) && ctx.caps.stream ? 'No measures in this range yet. New measures appear here as they arrive.' : 'No measures in this range.'));
    }
    draw();
    performance.mark('mymonit:charts-drawn');
    ctx.announce(summary.textContent ?? '');
  };

  /**
   * With the aggregate endpoint: one cheap query tells how many measures the range holds. Beyond
   * RAW_LIMIT the aggregates are the chart; below it they are a preview drawn at once while every
   * point streams in (which takes seconds for 100,000 points). Live measures arriving meanwhile
   * are buffered and applied once the final data is in place.
   */
  const load = async (): Promise<void> => {
    loadControl?.abort();
    const control = new AbortController();
    loadControl = control;
    loading = true;
    buffered = [];
    clear();
    mode = { kind: 'raw', truncated: false };
    summary.textContent = '';
    replace(latestBody);
    replace(charts, loadingState('Loading measures…'));
    const { from, to } = bounds(range);
    try {
      if (ctx.caps.aggregate) {
        const interval = pickInterval(to - from, MAX_BUCKETS);
        const buckets = await readAggregate(ctx.api, experimentId, from, to, interval, control.signal);
        const total = buckets.reduce((n, b) => n + b.count, 0);
        replace(charts);
        showAggregate(buckets, interval);
        if (total === 0 || total > RAW_LIMIT) {
          finish();
          return;
        }
        draw();
        summary.textContent = `${formatNumber(total)} measures; loading every point…`;
        performance.mark('mymonit:preview-drawn');
      }
      const points: Measure[] = [];
      const { truncated } = await readRaw(ctx.api, experimentId, from, to, RAW_LIMIT, control.signal, (m) => points.push(m));
      if (control.signal.aborted) return;
      clear();
      mode = { kind: 'raw', truncated };
      for (const m of points) addMeasure(m);
      if (truncated) {
        replace(rangeStatus, noticeState(`Showing the first ${formatNumber(RAW_LIMIT)} measures of this range. Choose a shorter range to see the rest.`));
      }
      performance.mark('mymonit:data-loaded');
      finish();
    } catch (err) {
      if (isAbort(err) || control.signal.aborted) return;
      loading = false;
      replace(charts, errorState(err, () => void load()));
    }
  };

  const setRange = (r: TimeRange): void => {
    range = r;
    rangeSelect.value = r.kind === 'last' ? r.key : 'custom';
    custom.hidden = r.kind !== 'between';
    fillCustom();
    replace(rangeStatus);
    history.replaceState(null, '', experimentHref(experimentId, rangeToParams(r)));
    // Before loading: measures arriving while the range loads are buffered, so none fall between.
    syncLive();
    void load();
  };

  rangeSelect.addEventListener('change', () => {
    const p = preset(rangeSelect.value);
    if (p) {
      setRange(p);
      return;
    }
    custom.hidden = false;
    fromInput.focus();
  });
  rangeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = fromLocalInput(fromInput.value);
    const to = fromLocalInput(toInput.value);
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
      replace(rangeStatus, errorState(new Error('Enter a start and an end time, the start before the end.')));
      (Number.isFinite(from) ? toInput : fromInput).focus();
      return;
    }
    setRange({ kind: 'between', from, to });
  });

  csvButton.addEventListener('click', () => {
    const { from, to } = bounds(range);
    csvButton.disabled = true;
    csvButton.textContent = 'Preparing CSV…';
    replace(csvStatus);
    downloadCsv(ctx.api, experimentId, name, from, to, ctx.signal)
      .then((bytes) => ctx.announce(`CSV downloaded, ${formatNumber(Math.ceil(bytes / 1024))} KB.`))
      .catch((err: unknown) => {
        if (!isAbort(err)) replace(csvStatus, errorState(err));
      })
      .finally(() => {
        csvButton.disabled = false;
        csvButton.textContent = 'Download CSV';
      });
  });

  // The experiment's name (and that the person may see it) and the units, then the data.
  Promise.all([
    ctx.api.get('/experiments/', (v) => list(v, 'experiments', experiment), { signal: ctx.signal }),
    ctx.api.get('/measure-types/', (v) => list(v, 'measure types', measureType), { signal: ctx.signal }),
  ])
    .then(([experiments, measureTypes]) => {
      const found = experiments.find((e) => e.experiment_id === experimentId);
      if (!found) {
        setLive('unavailable');
        replace(charts, errorState(new Error('This experiment does not exist, or you have no access to it.')));
        return;
      }
      name = found.name;
      heading.textContent = name;
      document.title = `${name} · MyMONIT`;
      units = new Map(measureTypes.map((t) => [t.name, t.symbol]));
      syncLive();
      void load();
    })
    .catch((err: unknown) => {
      if (!isAbort(err)) replace(charts, errorState(err));
    });
}

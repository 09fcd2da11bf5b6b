import uPlot from 'uplot';
import { formatNumber, h } from './dom';
import type { AggregateSeries, RawSeries } from './series';

/** Line colours, each at least 4.5:1 on white, in an order that keeps neighbours distinct. */
const PALETTE = ['#0b5cad', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#be185d'];
const HEIGHT = 280;
/** A source gets its points drawn when they are at least this many CSS pixels apart on average. */
const PX_PER_POINT = 8;

/**
 * Time axis labels, 24-hour and with unambiguous dates (uPlot's defaults are US style). Rows:
 * tick step (s), label, then the label where the year, month, day, hour, minute or second changes.
 */
const TIME_TICKS: uPlot.Axis.Values = [
  [365 * 86400, '{YYYY}', null, null, null, null, null, null, 1],
  [28 * 86400, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [86400, '{D} {MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
  [1, '{HH}:{mm}:{ss}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
  [0.001, '{HH}:{mm}:{ss}.{fff}', '\n{D} {MMM}', null, '\n{D} {MMM}', null, null, null, 1],
];

export interface ChartOptions {
  readonly unit: string;
  /** The time range shown, epoch ms: the whole selected range, not just where data happens to be. */
  readonly range: () => { from: number; to: number };
  /** The person dragged across the chart: zoom the view to [from, to) epoch ms. */
  readonly onZoom: (from: number, to: number) => void;
  /**
   * Where the legend goes: not inside the chart's role="img", whose content assistive technology
   * does not see, since the legend's toggles must be reachable.
   */
  readonly legend: HTMLElement;
}

type Data = RawSeries | AggregateSeries;

function isRaw(d: Data): d is RawSeries {
  return 'sources' in d;
}

/**
 * One uPlot chart of a measure type: a line per source for raw points, or the average with a
 * min–max band for aggregates. Redraws are coalesced to one per animation frame, so a burst of
 * live measures costs one draw.
 */
export class MeasureChart {
  private plot: uPlot | undefined;
  /** The legend's show/hide button of each series, by series index (none for the time). */
  private toggles: HTMLButtonElement[] = [];
  private seriesCount = 0;
  private frame = 0;
  private readonly resize: ResizeObserver;

  constructor(
    private readonly target: HTMLElement,
    private readonly data: Data,
    private readonly opts: ChartOptions,
  ) {
    this.resize = new ResizeObserver(() => {
      if (this.plot && this.target.clientWidth > 0) this.plot.setSize({ width: this.target.clientWidth, height: HEIGHT });
    });
    this.resize.observe(target);
    this.redraw();
  }

  private options(hidden: ReadonlySet<string>): uPlot.Options {
    const value = (_u: uPlot, v: number | null): string => (v === null || v === undefined ? '–' : `${formatNumber(v)} ${this.opts.unit}`.trim());
    const series: uPlot.Series[] = [{ label: 'Time', value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}.{fff}' }];
    const line = (label: string, s: uPlot.Series): uPlot.Series => ({ ...s, label, show: !hidden.has(label) });
    const bands: uPlot.Band[] = [];
    if (isRaw(this.data)) {
      const raw = this.data;
      // A sparse source (a new sensor, a single live point) would be invisible as a line alone.
      const points: uPlot.Series.Points = { show: (u, i) => (raw.perSource[i - 1] ?? 0) * PX_PER_POINT <= u.width, size: 5 };
      raw.sources.forEach((source, i) => {
        series.push(line(source === '' ? 'value' : source, { stroke: PALETTE[i % PALETTE.length], width: 1.5, value, points }));
      });
    } else {
      series.push(
        line('average', { stroke: PALETTE[0], width: 1.5, value }),
        line('min', { stroke: '#6b7785', width: 1, dash: [4, 3], value }),
        line('max', { stroke: '#6b7785', width: 1, dash: [4, 3], value }),
      );
      bands.push({ series: [3, 2], fill: 'rgba(11, 92, 173, 0.15)' });
    }
    return {
      width: Math.max(this.target.clientWidth, 300),
      height: HEIGHT,
      series,
      bands,
      scales: {
        x: {
          time: true,
          range: () => {
            const r = this.opts.range();
            return [r.from / 1000, r.to / 1000];
          },
        },
      },
      axes: [{ values: TIME_TICKS }, { label: this.opts.unit, size: 70, values: (_u, splits) => splits.map((v) => formatNumber(v)) }],
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true, mount: (_u, table) => this.opts.legend.append(table) },
      hooks: {
        // Mouse and keyboard alike: a click on a legend name, or isolating one with Ctrl-click.
        setSeries: [(u) => this.toggles.forEach((b, i) => b.setAttribute('aria-pressed', String(u.series[i]?.show !== false)))],
        setSelect: [
          (u) => {
            if (u.select.width < 5) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            this.opts.onZoom(Math.floor(from * 1000), Math.ceil(to * 1000));
          },
        ],
      },
    };
  }

  private aligned(): uPlot.AlignedData {
    const d = this.data;
    return isRaw(d) ? [d.xs, ...d.ys] : [d.xs, d.avg, d.min, d.max];
  }

  /** Draws now; use update() for live changes. */
  redraw(): void {
    const wanted = isRaw(this.data) ? this.data.sources.length : 3;
    if (!this.plot || wanted !== this.seriesCount) {
      // A new source arrived: rebuilding is simpler than uPlot's addSeries and just as fast. The
      // lines the person hid stay hidden, and a legend button with focus keeps it.
      const old = this.plot?.series ?? [];
      const hidden = new Set(old.flatMap((s) => (s.show === false && typeof s.label === 'string' ? [s.label] : [])));
      const focused = old[this.toggles.findIndex((b) => b === document.activeElement)]?.label;
      this.plot?.destroy();
      this.toggles = [];
      this.seriesCount = wanted;
      this.plot = new uPlot(this.options(hidden), this.aligned(), this.target);
      this.addToggles(this.plot);
      if (focused !== undefined) this.toggles[this.plot.series.findIndex((s) => s.label === focused)]?.focus();
      return;
    }
    this.plot.setData(this.aligned());
  }

  /**
   * uPlot toggles a line on a click of its legend name (the cell's listener). Wrapping each name in
   * a button makes that a keyboard control too, since a button's Enter and Space are clicks that
   * bubble to the cell; aria-pressed tells whether the line is shown.
   */
  private addToggles(plot: uPlot): void {
    const table = this.opts.legend.lastElementChild;
    if (!(table instanceof HTMLTableElement)) return;
    // Not a data table: a row per series (the time first), its values only follow the mouse.
    table.setAttribute('role', 'presentation');
    const rows = table.tBodies[0]?.rows ?? [];
    for (let i = 1; i < plot.series.length; i++) {
      const cell = rows[i]?.cells[0];
      if (!cell) continue;
      const button = h('button', { type: 'button', 'aria-pressed': String(plot.series[i]?.show !== false) }, ...cell.childNodes);
      cell.append(button);
      this.toggles[i] = button;
    }
  }

  update(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
    this.toggles = [];
  }
}

/**
 * Chart data of one measure type, kept in the column layout uPlot draws from (x in epoch seconds),
 * so appending a live point is O(1) and a redraw copies nothing.
 */

/** Raw points, one line per source; x holds every timestamp of any source, in order. */
export class RawSeries {
  readonly xs: number[] = [];
  readonly sources: string[] = [];
  /** ys[i][j]: value of sources[i] at xs[j]; undefined where that source has no point (uPlot joins over it). */
  readonly ys: Array<Array<number | undefined>> = [];
  /** perSource[i]: how many points sources[i] has. */
  readonly perSource: number[] = [];
  private points = 0;

  get count(): number {
    return this.points;
  }

  private sourceIndex(source: string): number {
    let i = this.sources.indexOf(source);
    if (i < 0) {
      i = this.sources.length;
      this.sources.push(source);
      this.perSource.push(0);
      this.ys.push(new Array<number | undefined>(this.xs.length).fill(undefined));
    }
    return i;
  }

  /** Adds or replaces (same time and source: last write wins, as in the database) a point. */
  add(x: number, source: string, value: number): void {
    const s = this.sourceIndex(source);
    const n = this.xs.length;
    let j: number;
    if (n === 0 || x > this.xs[n - 1]) {
      j = n;
    } else {
      j = lowerBound(this.xs, x);
    }
    if (j < n && this.xs[j] === x) {
      if (this.ys[s][j] === undefined) this.count1(s, 1);
      this.ys[s][j] = value;
      return;
    }
    if (j === n) {
      this.xs.push(x);
      for (const [i, y] of this.ys.entries()) y.push(i === s ? value : undefined);
    } else {
      // Out of order (a late device): rare, so the O(n) splice is fine.
      this.xs.splice(j, 0, x);
      for (const [i, y] of this.ys.entries()) y.splice(j, 0, i === s ? value : undefined);
    }
    this.count1(s, 1);
  }

  private count1(source: number, delta: number): void {
    this.points += delta;
    this.perSource[source] += delta;
  }

  /** Drops points older than x (a sliding "last hour" window). */
  trimBefore(x: number): void {
    const j = lowerBound(this.xs, x);
    if (j === 0) return;
    for (const [i, y] of this.ys.entries()) for (let k = 0; k < j; k++) if (y[k] !== undefined) this.count1(i, -1);
    this.xs.splice(0, j);
    for (const y of this.ys) y.splice(0, j);
  }
}

/** Per-interval avg/min/max/count of one measure type, as the aggregate endpoint returns them. */
export class AggregateSeries {
  readonly xs: number[] = [];
  readonly avg: Array<number | null> = [];
  readonly min: Array<number | null> = [];
  readonly max: Array<number | null> = [];
  readonly counts: number[] = [];

  private readonly intervalSeconds: number;

  constructor(readonly interval: Interval) {
    this.intervalSeconds = interval.seconds;
  }

  get count(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  addBucket(x: number, avg: number | null, min: number | null, max: number | null, count: number): void {
    const j = this.xs.length === 0 || x > this.xs[this.xs.length - 1] ? this.xs.length : lowerBound(this.xs, x);
    if (this.xs[j] === x) {
      this.avg[j] = avg;
      this.min[j] = min;
      this.max[j] = max;
      this.counts[j] = count;
      return;
    }
    this.xs.splice(j, 0, x);
    this.avg.splice(j, 0, avg);
    this.min.splice(j, 0, min);
    this.max.splice(j, 0, max);
    this.counts.splice(j, 0, count);
  }

  /** Folds a live point into its (UTC, epoch-aligned) bucket. */
  addPoint(x: number, value: number): void {
    const bucket = Math.floor(x / this.intervalSeconds) * this.intervalSeconds;
    const j = lowerBound(this.xs, bucket);
    if (this.xs[j] !== bucket) {
      this.addBucket(bucket, value, value, value, 1);
      return;
    }
    const n = this.counts[j] ?? 0;
    const avg = this.avg[j] ?? value;
    this.avg[j] = (avg * n + value) / (n + 1);
    this.min[j] = Math.min(this.min[j] ?? value, value);
    this.max[j] = Math.max(this.max[j] ?? value, value);
    this.counts[j] = n + 1;
  }

  trimBefore(x: number): void {
    const j = lowerBound(this.xs, Math.floor(x / this.intervalSeconds) * this.intervalSeconds);
    if (j === 0) return;
    for (const a of [this.xs, this.avg, this.min, this.max, this.counts]) a.splice(0, j);
  }
}

/** First index whose value is >= x. */
export function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Interval {
  /** As the aggregate endpoint spells it: 1m, 5m, 1h… */
  readonly label: string;
  readonly seconds: number;
}

const INTERVALS: readonly Interval[] = (
  [
    ['1s', 1],
    ['5s', 5],
    ['10s', 10],
    ['30s', 30],
    ['1m', 60],
    ['5m', 300],
    ['10m', 600],
    ['30m', 1800],
    ['1h', 3600],
    ['3h', 10800],
    ['6h', 21600],
    ['12h', 43200],
    ['1d', 86400],
  ] as const
).map(([label, seconds]) => ({ label, seconds }));

/** The finest interval that keeps a span within maxBuckets buckets (about one per pixel). */
export function pickInterval(spanMs: number, maxBuckets: number): Interval {
  const span = spanMs / 1000;
  return INTERVALS.find((i) => span / i.seconds <= maxBuckets) ?? INTERVALS[INTERVALS.length - 1];
}

export function describeInterval(i: Interval): string {
  const n = Number.parseInt(i.label, 10);
  const unit = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[i.label.slice(-1)] ?? i.label;
  return n === 1 ? unit : `${n} ${unit}s`;
}

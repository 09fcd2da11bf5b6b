import type { MeasureWire } from '../services/shared/measure-contract';

/**
 * The benchmark's data: point i is a distinct (experiment, measure type, source, timestamp), so N
 * points become exactly N rows. Consecutive points cycle through every experiment × type × source
 * combination before time moves on, as a fleet of sensors reporting together would.
 */

export const BENCH_EXPERIMENTS = ['bench-vibrations', 'bench-power', 'bench-climate', 'bench-beamline'] as const;
/** Seeded SI measure types (db/migrations/0004_si_measure_types.sql). */
export const BENCH_MEASURE_TYPES = ['hertz', 'watt', 'volt', 'pascal'] as const;
const SOURCES = Array.from({ length: 8 }, (_, i) => `sensor-${i + 1}`);
const COMBINATIONS = BENCH_EXPERIMENTS.length * BENCH_MEASURE_TYPES.length * SOURCES.length;

const START_SECONDS = 1_700_000_000;
/** Time between two rounds of readings: 10 ms, so timestamps carry fractions of a second. */
const STEP_US = 10_000;

export interface BenchPoint {
  readonly experiment: number;
  readonly measureType: number;
  readonly source: string;
  /** Microseconds since the epoch. */
  readonly timestampUs: number;
  readonly value: number;
}

export function benchPoint(i: number): BenchPoint {
  const c = i % COMBINATIONS;
  const round = Math.floor(i / COMBINATIONS);
  return {
    experiment: c % BENCH_EXPERIMENTS.length,
    measureType: Math.floor(c / BENCH_EXPERIMENTS.length) % BENCH_MEASURE_TYPES.length,
    source: SOURCES[Math.floor(c / (BENCH_EXPERIMENTS.length * BENCH_MEASURE_TYPES.length))],
    timestampUs: START_SECONDS * 1_000_000 + round * STEP_US,
    value: Math.round(Math.sin(i) * 1e6) / 1e3,
  };
}

/** The contract form of point i; the timestamp in seconds with fractions, as the original sent it. */
export function benchWire(i: number): MeasureWire {
  const p = benchPoint(i);
  return {
    experiment: BENCH_EXPERIMENTS[p.experiment],
    measure: BENCH_MEASURE_TYPES[p.measureType],
    value: p.value,
    timestamp: p.timestampUs / 1e6,
    source: p.source,
  };
}

/** n messages, each one measure object. */
export function* singleMeasureBodies(n: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.from(JSON.stringify(benchWire(i)));
}

/** Messages of `perMessage` measures each (the last may hold fewer), covering points 0..total-1. */
export function* arrayBodies(total: number, perMessage: number): Generator<Buffer> {
  for (let start = 0; start < total; start += perMessage) {
    const end = Math.min(total, start + perMessage);
    const measures: MeasureWire[] = [];
    for (let i = start; i < end; i++) measures.push(benchWire(i));
    yield Buffer.from(JSON.stringify(measures));
  }
}

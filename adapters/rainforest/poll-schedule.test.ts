import { PollSchedule } from './poll-schedule';

/** A random source returning the given values in turn (then 0.5: no jitter). */
const sequence = (...values: number[]) => () => values.shift() ?? 0.5;

describe('PollSchedule', () => {
  it('starts at a random phase within the first interval', () => {
    expect(new PollSchedule({ intervalMs: 6000, jitterRatio: 0, maxBackoffMs: 60_000, random: sequence(0.25) }, 1000).firstDue).toBe(2500);
  });

  it('keeps a fixed rate: jitter moves single polls but never accumulates', () => {
    const s = new PollSchedule({ intervalMs: 1000, jitterRatio: 0.1, maxBackoffMs: 60_000, random: sequence(0, 0, 1, 0, 1, 0.5) }, 0);
    // base 0; each success advances the base by exactly one interval, jitter is ±10% around it.
    expect(s.succeeded(50)).toBe(900);
    expect(s.succeeded(950)).toBe(2100);
    expect(s.succeeded(2150)).toBe(2900);
    expect(s.succeeded(2950)).toBe(4100);
    expect(s.succeeded(4150)).toBe(5000);
  });

  it('skips the ticks a slow poll overran instead of bunching them', () => {
    const s = new PollSchedule({ intervalMs: 1000, jitterRatio: 0, maxBackoffMs: 60_000, random: sequence(0) }, 0);
    expect(s.succeeded(3500)).toBe(4000);
    expect(s.succeeded(4001)).toBe(5000);
  });

  it('backs off exponentially after failures, capped, then resumes the cadence from the success', () => {
    const s = new PollSchedule({ intervalMs: 1000, jitterRatio: 0, maxBackoffMs: 5000, random: sequence(0) }, 0);
    expect(s.failed(100)).toBe(1100);
    expect(s.failed(1200)).toBe(3200);
    expect(s.failed(3300)).toBe(7300);
    expect(s.failed(7400)).toBe(12_400);
    expect(s.failed(12_500)).toBe(17_500);
    expect(s.consecutiveFailures).toBe(5);
    expect(s.succeeded(17_600)).toBe(18_500);
    expect(s.consecutiveFailures).toBe(0);
    expect(s.failed(18_600)).toBe(19_600);
  });

  it('jitters the backoff too, and never retries faster than the interval', () => {
    const s = new PollSchedule({ intervalMs: 1000, jitterRatio: 0.5, maxBackoffMs: 10, random: sequence(0, 1, 0) }, 0);
    expect(s.failed(0)).toBe(1500);
    expect(s.failed(1500)).toBe(2000);
  });
});

import { formatBytes, formatDuration, formatProgress } from './progress';

describe('formatProgress', () => {
  it('gives the rate, and percent and ETA for an input of known size', () => {
    expect(
      formatProgress({ elapsedMs: 2000, lines: 1000, confirmedMeasures: 900, bytesRead: 25 * 1024, totalBytes: 100 * 1024 }),
    ).toBe('progress: 1000 lines read, 900 measures sent, 500 lines/s, 25.0% of 100.0 KiB, ETA 6s');
  });

  it('leaves out percent and ETA when the size is unknown', () => {
    expect(formatProgress({ elapsedMs: 1000, lines: 10, confirmedMeasures: 10, bytesRead: 100 })).toBe(
      'progress: 10 lines read, 10 measures sent, 10 lines/s',
    );
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(3725)).toBe('1h02m');
  });
});

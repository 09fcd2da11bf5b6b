export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly lines: number;
  readonly confirmedMeasures: number;
  readonly bytesRead: number;
  /** Input size in bytes when known (a regular file). */
  readonly totalBytes?: number;
}

/** One progress line: counts, average rate and, for an input of known size, percent and ETA. */
export function formatProgress(p: ProgressSnapshot): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const parts = [`progress: ${p.lines} lines read`, `${p.confirmedMeasures} measures sent`, `${Math.round(p.lines / seconds)} lines/s`];
  if (p.totalBytes !== undefined && p.totalBytes > 0) {
    const fraction = Math.min(p.bytesRead / p.totalBytes, 1);
    parts.push(`${(fraction * 100).toFixed(1)}% of ${formatBytes(p.totalBytes)}`);
    if (p.bytesRead > 0) parts.push(`ETA ${formatDuration(((p.totalBytes - p.bytesRead) / p.bytesRead) * seconds)}`);
  }
  return parts.join(', ');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

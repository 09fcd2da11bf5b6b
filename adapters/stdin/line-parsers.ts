import { isRejection, judgeMeasure } from '../../services/shared/measure-contract';
import type { Measure, MeasureWire } from '../../services/shared/measure-contract';
import { splitCsvLine } from './csv';

/**
 * Turns input lines into measures of the contract (DESIGN §3.1). Each line is judged alone by the
 * contract's judgeMeasure, so the adapter rejects exactly what ingest would.
 */

export type LineOutcome =
  | { readonly kind: 'measure'; readonly measure: Measure }
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Blank lines, and the CSV header. */
  | { readonly kind: 'skipped' };

export type LineParser = (line: string) => LineOutcome;

export const FORMATS = ['plain', 'jsonl', 'csv'] as const;
export type InputFormat = (typeof FORMATS)[number];

/** The input cannot be read at all (e.g. a CSV header without a value column). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const SKIPPED: LineOutcome = { kind: 'skipped' };
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number literal as a number; anything else (hex, "NaN", "") stays text, for the contract to refuse. */
function numeric(text: string): number | string {
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : t;
}

function judged(wire: unknown, raw: string): LineOutcome {
  const result = judgeMeasure(wire, () => raw);
  return isRejection(result) ? { kind: 'rejected', reason: result.detail } : { kind: 'measure', measure: result };
}

export interface PlainOptions {
  readonly experiment: string;
  readonly measure: string;
  readonly source?: string;
  /** Milliseconds since the epoch, read once per line. */
  readonly now?: () => number;
}

/** One number per line, stamped with the time it was read (the original adapter's format). */
export function plainParser(opts: PlainOptions): LineParser {
  const now = opts.now ?? Date.now;
  return (line) => {
    if (line.trim() === '') return SKIPPED;
    const value = numeric(line);
    if (typeof value === 'string') return { kind: 'rejected', reason: `value: must be a number, got ${JSON.stringify(clipText(value))}` };
    const wire: MeasureWire = { experiment: opts.experiment, measure: opts.measure, value, timestamp: now() };
    if (opts.source !== undefined) wire.source = opts.source;
    return judged(wire, line);
  };
}

/** One measure object of the contract per line. */
export function jsonlParser(): LineParser {
  return (line) => {
    if (line.trim() === '') return SKIPPED;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      return { kind: 'rejected', reason: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
    return judged(doc, line);
  };
}

export const CSV_COLUMNS = ['experiment', 'measure', 'value', 'timestamp', 'source'] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['experiment', 'measure', 'value', 'timestamp'];

function isCsvColumn(name: string): name is CsvColumn {
  return (CSV_COLUMNS as readonly string[]).includes(name);
}

/**
 * A header line naming the columns (experiment, measure, value, timestamp, optionally source, in
 * any order), then one measure per line. Throws InputError for a header it cannot use.
 */
export function csvParser(): LineParser {
  let columns: Map<CsvColumn, number> | undefined;
  let width = 0;
  return (line) => {
    if (line.trim() === '') return SKIPPED;
    const fields = splitCsvLine(line);
    if (!Array.isArray(fields)) {
      if (!columns) throw new InputError(`CSV header: ${fields.error}`);
      return { kind: 'rejected', reason: fields.error };
    }
    if (!columns) {
      columns = readHeader(fields);
      width = fields.length;
      return SKIPPED;
    }
    if (fields.length !== width) return { kind: 'rejected', reason: `has ${fields.length} fields, the header has ${width}` };
    const at = (c: CsvColumn): string | undefined => {
      const i = columns?.get(c);
      return i === undefined ? undefined : fields[i];
    };
    const wire: Record<string, unknown> = {};
    const text = (c: CsvColumn): void => {
      const v = at(c);
      if (v !== undefined && v !== '') wire[c] = v;
    };
    text('experiment');
    text('measure');
    text('source');
    const value = at('value')?.trim();
    if (value) wire.value = numeric(value);
    const timestamp = at('timestamp')?.trim();
    if (timestamp) wire.timestamp = numeric(timestamp);
    return judged(wire, line);
  };
}

function readHeader(fields: readonly string[]): Map<CsvColumn, number> {
  const columns = new Map<CsvColumn, number>();
  fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!isCsvColumn(name)) {
      throw new InputError(`CSV header: unknown column "${raw}"; the columns are ${CSV_COLUMNS.join(', ')}`);
    }
    if (columns.has(name)) throw new InputError(`CSV header: column "${name}" appears twice`);
    columns.set(name, i);
  });
  const missing = REQUIRED_CSV_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length) throw new InputError(`CSV header: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return columns;
}

function clipText(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

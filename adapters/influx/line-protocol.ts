/**
 * InfluxDB line protocol (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
 *
 *   measurement[,tag=value…] field=value[,field=value…] [timestamp]
 *
 * Escapes: a backslash before a character the element would otherwise stop at (measurement: comma
 * and space; tag keys, tag values and field keys: comma, equals sign and space) or before another
 * backslash yields that character; any other backslash is literal (Telegraf writes `\n`, `\t` in
 * names as two characters, and InfluxDB keeps them). In string field values `\"` and `\\` are the
 * escapes, and a raw newline is part of the string. Lines starting with `#` are comments; blank
 * lines are skipped; a CR before the LF is tolerated. A bad line is reported with its number and
 * the parser goes on with the next one.
 */

export type FieldValue =
  | { readonly type: 'float'; readonly value: number }
  /** Signed 64-bit; beyond ±2^53 the number is the nearest double. */
  | { readonly type: 'integer'; readonly value: number }
  /** Unsigned 64-bit; beyond 2^53 the number is the nearest double. */
  | { readonly type: 'unsigned'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

export interface Point {
  /** 1-based number of the line the point starts on. */
  readonly line: number;
  readonly measurement: string;
  /** In the order sent. */
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly fields: ReadonlyArray<readonly [string, FieldValue]>;
  /** The timestamp's digits (with a leading '-' if negative), in the request's precision; undefined if absent. */
  readonly timestamp: string | undefined;
}

export interface LineError {
  readonly line: number;
  readonly reason: string;
  /** The start of the offending line, at most MAX_ERROR_TEXT characters. */
  readonly text: string;
}

export interface ParsedBody {
  readonly points: Point[];
  readonly errors: LineError[];
  /** Lines holding a point or an error (not blank lines or comments). */
  readonly lines: number;
}

const MAX_ERROR_TEXT = 100;
const MAX_STRING_FIELD = 64 * 1024;
const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;
const MAX_UINT64 = 18446744073709551615n;
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+i$/;
const UNSIGNED = /^\d+u$/;

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const QUOTE = 34;
const HASH = 35;

class LineSyntaxError extends Error {}

/** What a name stops at, and may escape: a measurement: comma and space; a key or tag value: also "=". */
type NameKind = 'measurement' | 'key';
/** What may follow a backslash in a string field value. */
type Escapable = NameKind | 'string';

function isSpecial(c: number, kind: Escapable): boolean {
  if (kind === 'string') return c === QUOTE || c === BACKSLASH;
  return c === COMMA || c === SPACE || c === BACKSLASH || (kind === 'key' && c === EQUALS);
}

function unescape(raw: string, kind: Escapable): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw.charCodeAt(i) !== BACKSLASH) continue;
    if (isSpecial(raw.charCodeAt(i + 1), kind)) {
      out += raw.slice(from, i);
      from = i + 1;
      i++;
    }
  }
  return out + raw.slice(from);
}

function fieldValue(token: string): FieldValue {
  if (token === '') throw new LineSyntaxError('missing field value');
  const last = token.charCodeAt(token.length - 1);
  if (last === 105 /* i */) {
    if (!INTEGER.test(token)) throw new LineSyntaxError(`invalid integer "${token}"`);
    const digits = token.slice(0, -1);
    if (digits.length >= 19) {
      const big = BigInt(digits);
      if (big > MAX_INT64 || big < MIN_INT64) throw new LineSyntaxError(`integer "${token}" out of range`);
    }
    return { type: 'integer', value: Number(digits) };
  }
  if (last === 117 /* u */) {
    if (!UNSIGNED.test(token)) throw new LineSyntaxError(`invalid unsigned integer "${token}"`);
    const digits = token.slice(0, -1);
    if (digits.length >= 20 && BigInt(digits) > MAX_UINT64) throw new LineSyntaxError(`unsigned integer "${token}" out of range`);
    return { type: 'unsigned', value: Number(digits) };
  }
  switch (token) {
    case 't':
    case 'T':
    case 'true':
    case 'True':
    case 'TRUE':
      return { type: 'boolean', value: true };
    case 'f':
    case 'F':
    case 'false':
    case 'False':
    case 'FALSE':
      return { type: 'boolean', value: false };
  }
  if (!FLOAT.test(token)) throw new LineSyntaxError(`invalid field value "${token}"`);
  const value = Number(token);
  if (!Number.isFinite(value)) throw new LineSyntaxError(`float "${token}" out of range`);
  return { type: 'float', value };
}

/** Parses a whole request body. */
export function parseLineProtocol(body: string): ParsedBody {
  return new Parser(body).parse();
}

class Parser {
  private i = 0;
  private lineNo = 1;
  private readonly n: number;
  private readonly points: Point[] = [];
  private readonly errors: LineError[] = [];
  private lines = 0;

  constructor(private readonly s: string) {
    this.n = s.length;
  }

  parse(): ParsedBody {
    const { s, n } = this;
    while (this.i < n) {
      let c = s.charCodeAt(this.i);
      while ((c === SPACE || c === TAB) && this.i < n) c = s.charCodeAt(++this.i);
      if (this.i >= n) break;
      if (c === NL) {
        this.i++;
        this.lineNo++;
        continue;
      }
      if (c === CR && (this.i + 1 >= n || s.charCodeAt(this.i + 1) === NL)) {
        this.i++;
        continue;
      }
      if (c === HASH) {
        this.skipLine();
        continue;
      }
      this.lines++;
      const start = this.i;
      const line = this.lineNo;
      try {
        this.points.push(this.point(line));
      } catch (err) {
        if (!(err instanceof LineSyntaxError)) throw err;
        const nl = s.indexOf('\n', start);
        const text = s.slice(start, Math.min(nl === -1 ? n : nl, start + MAX_ERROR_TEXT));
        this.errors.push({ line, reason: err.message, text });
        this.skipLine();
      }
    }
    return { points: this.points, errors: this.errors, lines: this.lines };
  }

  /** Moves past the next newline (or to the end). */
  private skipLine(): void {
    const nl = this.s.indexOf('\n', this.i);
    this.i = nl === -1 ? this.n : nl + 1;
    if (nl !== -1) this.lineNo++;
  }

  private atLineEnd(c: number): boolean {
    return c === NL || (c === CR && (this.i + 1 >= this.n || this.s.charCodeAt(this.i + 1) === NL));
  }

  /** A measurement, tag key, tag value or field key: up to an unescaped stop character. */
  private name(kind: NameKind): string {
    const { s, n } = this;
    const key = kind === 'key';
    const start = this.i;
    let escaped = false;
    while (this.i < n) {
      const c = s.charCodeAt(this.i);
      if (c === COMMA || c === SPACE || (key && c === EQUALS) || c === NL) break;
      if (c === BACKSLASH && this.i + 1 < n && isSpecial(s.charCodeAt(this.i + 1), kind)) {
        escaped = true;
        this.i += 2;
        continue;
      }
      if (c === CR && this.atLineEnd(c)) break;
      this.i++;
    }
    const raw = s.slice(start, this.i);
    return escaped ? unescape(raw, kind) : raw;
  }

  private peek(): number {
    return this.i < this.n ? this.s.charCodeAt(this.i) : -1;
  }

  private point(line: number): Point {
    const measurement = this.name('measurement');
    if (measurement === '') throw new LineSyntaxError('missing measurement');
    const tags: Array<[string, string]> = [];
    while (this.peek() === COMMA) {
      this.i++;
      const key = this.name('key');
      if (key === '') throw new LineSyntaxError('missing tag key');
      if (this.peek() !== EQUALS) throw new LineSyntaxError(`missing tag value for tag key "${key}"`);
      this.i++;
      const value = this.name('key');
      if (value === '') throw new LineSyntaxError(`missing tag value for tag key "${key}"`);
      if (this.peek() === EQUALS) throw new LineSyntaxError(`unescaped "=" in the value of tag "${key}"`);
      tags.push([key, value]);
    }
    if (this.peek() !== SPACE) throw new LineSyntaxError('missing fields');
    this.skipSpaces();
    const fields: Array<[string, FieldValue]> = [];
    for (;;) {
      const key = this.name('key');
      if (key === '') throw new LineSyntaxError(fields.length === 0 ? 'missing fields' : 'missing field key');
      if (this.peek() !== EQUALS) throw new LineSyntaxError(`missing field value for field key "${key}"`);
      this.i++;
      fields.push([key, this.fieldValue()]);
      if (this.peek() !== COMMA) break;
      this.i++;
    }
    let timestamp: string | undefined;
    const c = this.peek();
    if (c === SPACE) {
      this.skipSpaces();
      timestamp = this.timestamp();
    } else if (c !== -1 && !this.atLineEnd(c)) {
      throw new LineSyntaxError(`unexpected character "${String.fromCharCode(c)}" after the field set`);
    }
    this.endOfLine();
    return { line, measurement, tags, fields, timestamp };
  }

  private skipSpaces(): void {
    while (this.peek() === SPACE) this.i++;
  }

  private fieldValue(): FieldValue {
    const { s, n } = this;
    if (this.peek() === QUOTE) {
      const start = ++this.i;
      let escaped = false;
      let newlines = 0;
      for (;;) {
        if (this.i >= n) {
          // Resume after the quote's line, not at the end of the body: one stray quote must not
          // cost every line after it.
          this.i = start;
          throw new LineSyntaxError('unterminated string field value');
        }
        const c = s.charCodeAt(this.i);
        if (c === BACKSLASH && this.i + 1 < n && isSpecial(s.charCodeAt(this.i + 1), 'string')) {
          escaped = true;
          this.i += 2;
          continue;
        }
        if (c === QUOTE) break;
        if (c === NL) newlines++;
        this.i++;
      }
      const raw = s.slice(start, this.i);
      this.i++;
      // Counted only once the string is complete, so a failed line is skipped by its first newline.
      this.lineNo += newlines;
      const value = escaped ? unescape(raw, 'string') : raw;
      if (value.length > MAX_STRING_FIELD) throw new LineSyntaxError('string field value longer than 64 KiB');
      return { type: 'string', value };
    }
    const start = this.i;
    while (this.i < n) {
      const c = s.charCodeAt(this.i);
      if (c === COMMA || c === SPACE || this.atLineEnd(c)) break;
      this.i++;
    }
    return fieldValue(s.slice(start, this.i));
  }

  private timestamp(): string | undefined {
    const { s, n } = this;
    const start = this.i;
    while (this.i < n) {
      const c = s.charCodeAt(this.i);
      if (c === SPACE || this.atLineEnd(c)) break;
      this.i++;
    }
    if (this.i === start) return undefined;
    const token = s.slice(start, this.i);
    if (!/^-?\d{1,19}$/.test(token)) throw new LineSyntaxError(`bad timestamp "${token}"`);
    this.skipSpaces();
    return token;
  }

  /** After the point: only the end of the line (or of the body) may follow. */
  private endOfLine(): void {
    const c = this.peek();
    if (c === -1) return;
    if (!this.atLineEnd(c)) throw new LineSyntaxError(`unexpected text after the timestamp`);
    if (c === CR) this.i++;
    if (this.peek() === NL) {
      this.i++;
      this.lineNo++;
    }
  }
}

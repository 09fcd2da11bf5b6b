/**
 * The text JavaScript gives a finite number (String(v), which is also its JSON), written as
 * Latin-1 bytes into a buffer without making a string in the common case.
 *
 * Why: measures are written by the thousand per response, and String(v) of a fractional number
 * costs more than the rest of its row. V8 also keeps each such string in its number-string cache,
 * which it allocates in the old generation, so every page of measures grew the old generation by
 * its values' text and brought on full collections that pause every request in flight.
 *
 * The common case is a value with few decimal digits, as devices report them (21.37, -0.0042,
 * 1200). For those the shortest text that reads back as v is found by exact arithmetic: the
 * smallest f (0 ≤ f ≤ 8) with q / 10^f === v for the integer q nearest v·10^f. That is the
 * text ECMAScript's Number::toString prescribes, because
 * - v·10^f < 2^50 keeps ulp(v) under a quarter of 10^-f: q·10^-f is then the only decimal with f
 *   digits after the point that reads back as v, Math.round(v·10^f) finds it whatever the product's
 *   rounding, and a shorter one would have been found with a smaller f;
 * - q and 10^f are exact doubles and IEEE division rounds correctly, so q / 10^f === v is exactly
 *   "the decimal q·10^-f reads back as v";
 * - 1e-5 ≤ |v| < 2^50 is inside the range where JavaScript writes fixed notation.
 * Everything else (more digits, tiny or huge magnitudes) goes to JSON.stringify, which writes the
 * same text as String(v) without the cache. The unit tests compare both ways with String(v) for
 * about 900,000 values of every shape (120 million agreed when this was written).
 */

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
const MAX_FRACTION_DIGITS = POW10.length - 1;
const EXACT_LIMIT = 2 ** 50;
const MIN_FIXED = 1e-5;
const DIGIT_0 = 0x30;
const MINUS = 0x2d;
const POINT = 0x2e;

/** The most bytes writeNumber writes: -1.7976931348623157e+308 and -0.0000012345678901234567 are 24 and 25. */
export const MAX_NUMBER_BYTES = 25;

/** Writes the text of a finite number at `at`, returns the number of bytes written. */
export function writeNumber(out: Uint8Array, at: number, v: number): number {
  if (v === 0) {
    out[at] = DIGIT_0; // also -0, as String(-0) is '0'
    return 1;
  }
  const negative = v < 0;
  const a = negative ? -v : v;
  if (a >= MIN_FIXED && a < EXACT_LIMIT) {
    for (let f = 0; f <= MAX_FRACTION_DIGITS; f++) {
      const p = POW10[f];
      const scaled = a * p;
      if (scaled >= EXACT_LIMIT) break;
      const q = Math.round(scaled);
      if (q / p === a) return writeDecimal(out, at, negative, q, f, p);
    }
  }
  return writeLatin1(out, at, JSON.stringify(v));
}

/** q·10^-f with its f fraction digits (q has no trailing zero when f > 0, by the search above). */
function writeDecimal(out: Uint8Array, at: number, negative: boolean, q: number, f: number, p: number): number {
  const start = at;
  if (negative) out[at++] = MINUS;
  // Exact: q < 2^50 and p ≤ 10^8 leave q / p too far from the next integer for rounding to reach it.
  const whole = Math.floor(q / p);
  at += writeInteger(out, at, whole);
  if (f > 0) {
    out[at] = POINT;
    writeDigits(out, at + 1, q - whole * p, f);
    at += f + 1;
  }
  return at - start;
}

/** A non-negative integer below 2^50, in decimal. */
function writeInteger(out: Uint8Array, at: number, n: number): number {
  if (n < 1e8) return writeDigits(out, at, n, digitCount(n));
  // Integer arithmetic below works on 32 bits: the top digits, then the last eight.
  const top = Math.floor(n / 1e8);
  const topDigits = writeDigits(out, at, top, digitCount(top));
  return topDigits + writeDigits(out, at + topDigits, n - top * 1e8, 8);
}

function digitCount(n: number): number {
  let digits = 1;
  for (let limit = 10; n >= limit; limit *= 10) digits++;
  return digits;
}

/** The last `digits` digits of n (0 ≤ n < 2^31), zero-padded on the left. */
function writeDigits(out: Uint8Array, at: number, n: number, digits: number): number {
  let rest = n | 0;
  for (let i = digits - 1; i >= 0; i--) {
    const tenth = (rest / 10) | 0;
    out[at + i] = DIGIT_0 + rest - tenth * 10;
    rest = tenth;
  }
  return digits;
}

function writeLatin1(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return text.length;
}

/**
 * Field encodings of the Rainforest Eagle APIs (device-protocols.md §1.3, §1.4). Legacy fragments
 * carry hex integers, demand as a signed (two's complement) number, a Multiplier/Divisor pair and
 * timestamps counted from 2000-01-01T00:00:00Z; the Eagle-200 local API carries decimal strings
 * already scaled and Unix-epoch hex timestamps.
 */

/** Seconds from the Unix epoch to 2000-01-01T00:00:00Z, the legacy Eagle's epoch. */
export const Y2K_EPOCH_SECONDS = 946_684_800;

/** A field the device sent that cannot be what it claims to be. */
export class EagleValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EagleValueError';
  }
}

const HEX = /^0x([0-9a-f]{1,16})$/i;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function hexDigits(field: string, text: string): string {
  const m = HEX.exec(text.trim());
  if (!m) throw new EagleValueError(`${field}: expected a hex number like 0x00000a, got ${JSON.stringify(text.slice(0, 40))}`);
  return m[1];
}

function toSafeNumber(field: string, n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EagleValueError(`${field}: ${n} does not fit a double exactly`);
  }
  return Number(n);
}

/** An unsigned hex field, e.g. `0x00000a` → 10. */
export function parseUnsignedHex(field: string, text: string): number {
  return toSafeNumber(field, BigInt(`0x${hexDigits(field, text)}`));
}

/**
 * A signed (two's complement) hex field. Its width is the number of digits sent, at least 24 bits:
 * the Eagle sends demand as 6 digits (`0xfffc18` = −1000), some firmware as 8 (`0xfffffc18`), and a
 * shorter, unpadded form must not turn a positive reading into a negative one.
 */
export function parseSignedHex(field: string, text: string): number {
  const digits = hexDigits(field, text);
  const bits = BigInt(Math.max(24, Math.ceil((digits.length * 4) / 8) * 8));
  const raw = BigInt(`0x${digits}`);
  const signBit = 1n << (bits - 1n);
  return toSafeNumber(field, raw >= signBit ? raw - (1n << bits) : raw);
}

/** raw × Multiplier ÷ Divisor, where a 0 multiplier or divisor means 1 (the device's convention). */
export function scale(raw: number, multiplier: number, divisor: number): number {
  return (raw * (multiplier === 0 ? 1 : multiplier)) / (divisor === 0 ? 1 : divisor);
}

/** A legacy TimeStamp (hex seconds since 2000-01-01Z) as microseconds since the Unix epoch. */
export function y2kHexToMicros(field: string, text: string): number {
  return (parseUnsignedHex(field, text) + Y2K_EPOCH_SECONDS) * 1_000_000;
}

/** An Eagle-200 LastContact (hex seconds since the Unix epoch) as microseconds. */
export function unixHexToMicros(field: string, text: string): number {
  return parseUnsignedHex(field, text) * 1_000_000;
}

/** A decimal string of the local API (`2.790000`, `-0.512000`); empty means "unknown". */
export function parseDecimal(field: string, text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (!DECIMAL.test(t)) throw new EagleValueError(`${field}: expected a decimal number, got ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/**
 * A ZigBee EUI-64 as the canonical lower-case `0x` + 16 hex digits string. MAC ids exceed 2^53, so
 * they stay strings from the wire to the measure's source (never a number).
 */
export function normalizeMac(field: string, text: string): string {
  return `0x${hexDigits(field, text).toLowerCase().padStart(16, '0')}`;
}

/**
 * Exact decimal-string arithmetic for the few values Spectra derives instead of copying
 * (SPEC section 2: decimals travel as text so ClickHouse Decimal columns receive exact values).
 * Values are scaled BigInts; nothing goes through a binary float.
 */

interface Scaled {
  readonly units: bigint;
  readonly scale: number;
}

/** Parses "-12.340" / "1e-7" / "5" into units × 10^-scale; undefined when not a decimal. */
function scaled(text: string): Scaled | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (m === null) return undefined;
  const frac = m[3] ?? "";
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  let digits = (m[2] as string) + frac;
  let scale = frac.length - exp;
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  const units = BigInt(digits);
  return { units: m[1] === "-" ? -units : units, scale };
}

/** Formats units × 10^-scale as plain decimal text, without exponent or trailing zeros. */
function format(units: bigint, scale: number): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale > 0) {
    if (digits.length <= scale) digits = "0".repeat(scale - digits.length + 1) + digits;
    const point = digits.length - scale;
    const frac = digits.slice(point).replace(/0+$/, "");
    digits = frac === "" ? digits.slice(0, point) : `${digits.slice(0, point)}.${frac}`;
  }
  return negative && digits !== "0" ? `-${digits}` : digits;
}

/** Plain-decimal form of a decimal text ("1e-7" -> "0.0000001", "2.50" -> "2.5"). */
export function normalizeDecimal(text: string): string | undefined {
  const s = scaled(text);
  return s === undefined ? undefined : format(s.units, s.scale);
}

/**
 * A JSON number as decimal text. `String()` gives the shortest text that round-trips (so
 * 0.001 stays "0.001", as sent), but switches to exponent form below 1e-6 and from 1e21; those
 * are expanded so the text is always a plain decimal.
 */
export function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const s = String(n);
  return s.includes("e") ? normalizeDecimal(s) : s;
}

/** Exact product of two decimal texts. */
export function multiplyDecimals(a: string, b: string): string | undefined {
  const x = scaled(a);
  const y = scaled(b);
  if (x === undefined || y === undefined) return undefined;
  return format(x.units * y.units, x.scale + y.scale);
}

/**
 * Long and short shares from a long/short ratio r: r/(1+r) and 1/(1+r). Division is not exact
 * in decimal (r = 2 gives 2/3), so the long share is rounded half-up to `SHARE_DECIMALS` places
 * and the short share is 1 minus it, so the two always sum to exactly 1.
 */
export const SHARE_DECIMALS = 12;

export function sharesFromRatio(ratio: string): { long: string; short: string } | undefined {
  const r = scaled(ratio);
  if (r === undefined || r.units < 0n) return undefined;
  const one = 10n ** BigInt(r.scale);
  const denominator = one + r.units;
  const target = 10n ** BigInt(SHARE_DECIMALS);
  const long = (2n * r.units * target + denominator) / (2n * denominator);
  return { long: format(long, SHARE_DECIMALS), short: format(target - long, SHARE_DECIMALS) };
}

/** A time base or frame rate, as FFmpeg's AVRational. */
export interface Rational {
  readonly num: number;
  readonly den: number;
}

export function rational(num: number, den: number): Rational {
  return { num, den };
}

export function toNumber(r: Rational): number {
  return r.den === 0 ? 0 : r.num / r.den;
}

export function formatRational(r: Rational): string {
  return `${r.num}/${r.den}`;
}

export function isValidRational(r: Rational | undefined): r is Rational {
  return r !== undefined && Number.isFinite(r.num) && Number.isFinite(r.den) && r.num > 0 && r.den > 0;
}

/**
 * ts * from / to, rounded to nearest with halves away from zero (av_rescale_q's AV_ROUND_NEAR_INF).
 * BigInt keeps it exact for the 33-bit MPEG-TS clock and any time base FFmpeg produces.
 */
export function rescale(ts: number, from: Rational, to: Rational): number {
  if (from.num === to.num && from.den === to.den) return ts;
  const a = BigInt(Math.trunc(ts)) * BigInt(from.num) * BigInt(to.den);
  const b = BigInt(from.den) * BigInt(to.num);
  const negative = a < 0n;
  const abs = negative ? -a : a;
  const q = (abs * 2n + b) / (2n * b);
  return Number(negative ? -q : q);
}

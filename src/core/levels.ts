/**
 * The one definition of how integer sample levels map to the 0..1 floats models work in: an n-bit
 * level k is exactly k / (2^n − 1) (8-bit: k/255, 10-bit: k/1023), and a float x goes back to
 * round(clamp(x, 0, 1) · (2^n − 1)). Every reader and writer of float pictures uses these tables, so
 * a level survives the round trip bit for bit.
 */

const tables = new Map<number, Float32Array>();

/** The largest level of an n-bit sample. */
export function maxLevel(depth: number): number {
  return 2 ** depth - 1;
}

/** level → float32(level / max) for every level of an n-bit sample. */
export function levelTable(depth: number): Float32Array {
  let table = tables.get(depth);
  if (!table) {
    const max = maxLevel(depth);
    table = Float32Array.from({ length: max + 1 }, (_, k) => k / max);
    tables.set(depth, table);
  }
  return table;
}

/** A float that is not a number where a picture was expected: the message names the place. */
export class NotANumberError extends Error {
  constructor(readonly position: number) {
    super(`not a number at sample ${position}`);
  }
}

/**
 * Floats 0..1 → n-bit levels, round(clamp(x)·max) with x·max in float32 and ties to even (numpy's
 * and ONNX's Round), into `out` (Uint8Array for 8 bits, Uint16Array above). NaN throws NotANumberError instead of becoming
 * black (NaN|0 is 0); ±Infinity clamps.
 */
export function quantiseLevels(src: Float32Array, depth: number, out: Uint8Array | Uint16Array, offset = 0, count = src.length - offset): void {
  if (depth === 8 && out instanceof Uint8Array) {
    // a Uint8ClampedArray store is round-half-even with clamping, in one step: the hot path (720p: 2.8M
    // values). x·255 is rounded to float32 first, as numpy (float32 arrays) and ONNX Runtime compute it,
    // so values at a tie between two levels land where theirs do.
    const clamped = new Uint8ClampedArray(out.buffer, out.byteOffset, count);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const x = src[offset + i]!;
      clamped[i] = Math.fround(x * 255);
      sum += x;
    }
    if (sum !== sum) throwAtFirstNaN(src, offset, count); // NaN spreads through the sum (+Inf and -Inf together look alike: checked)
    return;
  }
  const max = maxLevel(depth);
  for (let i = 0; i < count; i++) {
    const x = src[offset + i]!;
    if (x > 0) out[i] = x < 1 ? roundHalfEven(Math.fround(x * max)) : max;
    else if (x <= 0) out[i] = 0;
    else throw new NotANumberError(offset + i);
  }
}

/** Rounds to the nearest integer, ties to the even one (numpy.round, IEEE roundTiesToEven). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function throwAtFirstNaN(src: Float32Array, offset: number, count: number): void {
  for (let i = 0; i < count; i++) if (Number.isNaN(src[offset + i])) throw new NotANumberError(offset + i);
}

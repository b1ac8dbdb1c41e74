/** Mean absolute difference of two LR frames normalised to [-1, 1], in 0..1 units of the pixel range. */
export function meanAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`frames hold ${a.length} and ${b.length} values`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return a.length ? sum / a.length / 2 : 0;
}

/** `planar RGB 0..1 → 2x − 1` (the reference's `u8/255·2 − 1`, in float32). */
export function normaliseLr(rgb: Float32Array, out: Float32Array = new Float32Array(rgb.length)): Float32Array {
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! * 2 - 1;
  return out;
}

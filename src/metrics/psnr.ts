/** Mean squared error and PSNR of 8-bit planes, as FFmpeg's psnr filter computes them. */

export function meanSquaredError(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`planes of ${a.length} and ${b.length} samples`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return a.length === 0 ? 0 : sum / a.length;
}

/** 10 log10(255² / mse); Infinity for identical pictures (FFmpeg prints 'inf'). */
export function psnrFromMse(mse: number, peak = 255): number {
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** Mean absolute difference of two 8-bit planes, in levels (0..255). */
export function meanAbsoluteDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return a.length === 0 ? 0 : sum / a.length;
}

/** Frame pixels (planar RGB 0..1) ↔ model tensors, for the layouts and value ranges manifests declare. */

export type Layout = 'NCHW' | 'NHWC';

export function tensorDims(layout: Layout, height: number, width: number): number[] {
  return layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
}

/** Model input data; planar 0..1 input to an NCHW [0,1] model is passed through without a copy. */
export function toTensorData(rgb: Float32Array, width: number, height: number, layout: Layout, range: readonly [number, number]): Float32Array {
  const [lo, hi] = range;
  const span = hi - lo;
  if (layout === 'NCHW') {
    if (lo === 0 && hi === 1) return rgb;
    const out = new Float32Array(rgb.length);
    for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! * span + lo;
    return out;
  }
  const size = width * height;
  const out = new Float32Array(3 * size);
  for (let p = 0, o = 0; p < size; p++, o += 3) {
    out[o] = rgb[p]! * span + lo;
    out[o + 1] = rgb[p + size]! * span + lo;
    out[o + 2] = rgb[p + 2 * size]! * span + lo;
  }
  return out;
}

/**
 * Model output → planar RGB 0..1 (reusing the buffer for NCHW). Values are clamped only when
 * `clamp` is set (history models, whose output is fed back); swscale clamps on the way out anyway.
 */
export function fromTensorData(data: Float32Array, width: number, height: number, layout: Layout, range: readonly [number, number], clampValues = true): Float32Array {
  const [lo, hi] = range;
  const inv = 1 / (hi - lo);
  const clamp = clampValues ? (v: number): number => (v <= 0 ? 0 : v >= 1 ? 1 : v) : (v: number): number => v;
  if (layout === 'NCHW') {
    if (lo === 0 && hi === 1) {
      // inline, not through clamp(): this runs over every output value (720p: 2.8M) of history models; NaN stays NaN
      if (clampValues) {
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!;
          if (v < 0) data[i] = 0;
          else if (v > 1) data[i] = 1;
        }
      }
    } else {
      for (let i = 0; i < data.length; i++) data[i] = clamp((data[i]! - lo) * inv);
    }
    return data;
  }
  const size = width * height;
  const out = new Float32Array(3 * size);
  for (let p = 0, o = 0; p < size; p++, o += 3) {
    out[p] = clamp((data[o]! - lo) * inv);
    out[p + size] = clamp((data[o + 1]! - lo) * inv);
    out[p + 2 * size] = clamp((data[o + 2]! - lo) * inv);
  }
  return out;
}

/** Cutting planar frames (RGB, or a luma model's Y) into tiles and windows, and blending upscaled tiles back into one frame. */

/** A rectangle in low-resolution pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** `box` of planar `src` (`channels` planes of width x height), scaled by `scale`, as its own planar array. */
export function cropPlanes(src: Float32Array, width: number, height: number, channels: number, box: Box, scale = 1): Float32Array {
  const W = width * scale;
  const x = box.x * scale;
  const y = box.y * scale;
  const w = box.w * scale;
  const h = box.h * scale;
  const plane = W * height * scale;
  const out = new Float32Array(channels * w * h);
  for (let c = 0, o = 0; c < channels; c++) {
    for (let r = 0; r < h; r++, o += w) {
      const start = c * plane + (y + r) * W + x;
      out.set(src.subarray(start, start + w), o);
    }
  }
  return out;
}

/**
 * Weighted sum of upscaled tiles: `add` each tile with its per-axis weights, then `result` divides
 * by the summed weights, so overlapping tiles blend and every other pixel keeps its one tile's value.
 */
export class TileBlender {
  private readonly sum: Float32Array;
  private readonly weight: Float32Array;

  /** `channels`: planes per pixel, 3 for RGB, 1 for Y. */
  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly channels: 1 | 3 = 3,
  ) {
    this.sum = new Float32Array(channels * width * height);
    this.weight = new Float32Array(width * height);
  }

  /** `tile` is planar (RGB, or Y) of weightX.length x weightY.length placed at (x, y) of the output. */
  add(tile: Float32Array, x: number, y: number, weightX: Float32Array, weightY: Float32Array): void {
    const tw = weightX.length;
    const th = weightY.length;
    const plane = this.width * this.height;
    const tilePlane = tw * th;
    for (let ty = 0; ty < th; ty++) {
      const wy = weightY[ty]!;
      if (wy === 0) continue;
      const row = (y + ty) * this.width + x;
      for (let tx = 0; tx < tw; tx++) {
        const w = wy * weightX[tx]!;
        if (w === 0) continue;
        const o = row + tx;
        const i = ty * tw + tx;
        this.weight[o] = this.weight[o]! + w;
        this.sum[o] = this.sum[o]! + w * tile[i]!;
        if (this.channels === 1) continue;
        this.sum[o + plane] = this.sum[o + plane]! + w * tile[i + tilePlane]!;
        this.sum[o + 2 * plane] = this.sum[o + 2 * plane]! + w * tile[i + 2 * tilePlane]!;
      }
    }
  }

  /** The blended frame (the accumulation buffer, normalised in place). */
  result(): Float32Array {
    const plane = this.width * this.height;
    for (let o = 0; o < plane; o++) {
      const w = this.weight[o]!;
      if (w === 1) continue;
      if (w === 0) throw new Error(`tile blending left output pixel (${o % this.width}, ${Math.floor(o / this.width)}) uncovered`);
      const inv = 1 / w;
      for (let c = 0; c < this.channels; c++) this.sum[o + c * plane] = this.sum[o + c * plane]! * inv;
    }
    return this.sum;
  }
}

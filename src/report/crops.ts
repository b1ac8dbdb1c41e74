import { lumaPlane } from '../metrics/planes.js';

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The frame (0-based) where the candidates differ most: the largest spread of PSNR-Y between
 * them; with a single candidate, its worst frame.
 */
export function frameToShow(psnrY: ReadonlyArray<ReadonlyArray<number>>): number {
  const frames = Math.min(...psnrY.map((s) => s.length));
  let best = 0;
  let bestScore = -Infinity;
  for (let f = 0; f < frames; f++) {
    const values = psnrY.map((s) => s[f]!).filter(Number.isFinite);
    const score = psnrY.length > 1 ? Math.max(...values) - Math.min(...values) : -(values[0] ?? Infinity);
    if (score > bestScore) [best, bestScore] = [f, score];
  }
  return best;
}

/**
 * Up to `count` non-overlapping regions of one frame where the candidates' errors against the
 * ground truth differ most (spread of per-block Y MSE; one candidate: its largest error).
 * Pictures are packed RGB24 of width x height.
 */
export function regionsToShow(gt: Uint8Array, candidates: readonly Uint8Array[], width: number, height: number, opts: { width: number; height: number; count: number }): Region[] {
  const w = Math.min(opts.width, width);
  const h = Math.min(opts.height, height);
  const full = { width, height, border: 0 };
  const ref = lumaPlane(gt, full);
  const lumas = candidates.map((c) => lumaPlane(c, full));
  const stride = Math.max(8, Math.floor(Math.min(w, h) / 4));
  const scored: Array<Region & { score: number }> = [];
  for (let y = 0; y + h <= height; y += stride) {
    for (let x = 0; x + w <= width; x += stride) {
      const mse = lumas.map((l) => {
        let sum = 0;
        for (let r = y; r < y + h; r++) for (let c = x, i = r * width + x; c < x + w; c++, i++) sum += (l[i]! - ref[i]!) ** 2;
        return sum / (w * h);
      });
      const score = mse.length > 1 ? Math.max(...mse) - Math.min(...mse) : mse[0]!;
      scored.push({ x, y, width: w, height: h, score });
    }
  }
  scored.sort((a, b) => b.score - a.score);
  const chosen: Region[] = [];
  for (const s of scored) {
    if (chosen.length >= opts.count) break;
    if (chosen.some((c) => s.x < c.x + c.width && c.x < s.x + s.width && s.y < c.y + c.height && c.y < s.y + s.height)) continue;
    chosen.push({ x: s.x, y: s.y, width: s.width, height: s.height });
  }
  return chosen;
}

/** A region of a packed RGB24 picture as planar float RGB 0..1 (what the PNG encoder takes). */
export function cropToFloat(rgb: Uint8Array, width: number, r: Region): Float32Array {
  const plane = r.width * r.height;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const i = ((r.y + y) * width + r.x + x) * 3;
      const o = y * r.width + x;
      out[o] = rgb[i]! / 255;
      out[plane + o] = rgb[i + 1]! / 255;
      out[2 * plane + o] = rgb[i + 2]! / 255;
    }
  }
  return out;
}

/** Packed RGB24 → planar float RGB 0..1. */
export function rgb24ToFloat(rgb: Uint8Array, width: number, height: number): Float32Array {
  return cropToFloat(rgb, width, { x: 0, y: 0, width, height });
}

/** Planar float RGB 0..1 → packed RGB24, rounded and clamped. */
export function floatToRgb24(planes: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(Math.min(1, Math.max(0, planes[c * plane + i]!)) * 255);
  return out;
}

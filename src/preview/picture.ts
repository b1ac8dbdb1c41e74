import type { Frame } from '../core/frame.js';
import { keysKernel } from '../models/bicubic.js';

/** Planar float RGB 0..1 (R, G, B planes) of one picture (the quality report's crops). */
export interface Picture {
  readonly width: number;
  readonly height: number;
  readonly rgb: Float32Array;
}

/**
 * A still taken from the stream for people to look at: the frame itself, in whatever layout the
 * pipeline negotiated (a decoded picture, or float RGB). Frames are never changed once made (a
 * stage makes a new one), so holding one is the copy: no pixels are duplicated until it is encoded.
 */
export interface Still {
  readonly width: number;
  readonly height: number;
  readonly frame: Frame;
}

/** The one place a preview takes a frame. */
export function takePicture(frame: Frame): Still {
  return { width: frame.info.width, height: frame.info.height, frame };
}

/** Taps and source offsets of one output line or column for a cubic resize with half-pixel centres. */
function cubicTaps(inSize: number, outSize: number, a: number): { first: Int32Array; weights: Float32Array } {
  const first = new Int32Array(outSize);
  const weights = new Float32Array(outSize * 4);
  const ratio = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const x = (o + 0.5) * ratio - 0.5;
    const base = Math.floor(x) - 1;
    first[o] = base;
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += weights[o * 4 + k] = keysKernel(x - (base + k), a);
    for (let k = 0; k < 4; k++) weights[o * 4 + k]! /= sum;
  }
  return { first, weights };
}

/**
 * Bicubic resize (Keys a = -0.6 as the bundled bicubic model, half-pixel centres, edges
 * replicated), separable, clamped to 0..1: what the source frame looks like merely scaled up.
 */
export function bicubicResize(p: Picture, width: number, height: number, a = -0.6): Picture {
  if (p.width === width && p.height === height) return p;
  const h = cubicTaps(p.width, width, a);
  const v = cubicTaps(p.height, height, a);
  const clampX = (x: number): number => (x < 0 ? 0 : x >= p.width ? p.width - 1 : x);
  const clampY = (y: number): number => (y < 0 ? 0 : y >= p.height ? p.height - 1 : y);
  const out = new Float32Array(3 * width * height);
  const rows = new Float32Array(p.height * width);
  for (let c = 0; c < 3; c++) {
    const src = p.rgb.subarray(c * p.width * p.height, (c + 1) * p.width * p.height);
    for (let y = 0; y < p.height; y++) {
      const line = y * p.width;
      for (let x = 0; x < width; x++) {
        const b = h.first[x]!;
        let s = 0;
        for (let k = 0; k < 4; k++) s += h.weights[x * 4 + k]! * src[line + clampX(b + k)]!;
        rows[y * width + x] = s;
      }
    }
    const dst = out.subarray(c * width * height, (c + 1) * width * height);
    for (let y = 0; y < height; y++) {
      const b = v.first[y]!;
      const r0 = clampY(b) * width, r1 = clampY(b + 1) * width, r2 = clampY(b + 2) * width, r3 = clampY(b + 3) * width;
      const w = v.weights;
      for (let x = 0; x < width; x++) {
        const s = w[y * 4]! * rows[r0 + x]! + w[y * 4 + 1]! * rows[r1 + x]! + w[y * 4 + 2]! * rows[r2 + x]! + w[y * 4 + 3]! * rows[r3 + x]!;
        dst[y * width + x] = s < 0 ? 0 : s > 1 ? 1 : s;
      }
    }
  }
  return { width, height, rgb: out };
}

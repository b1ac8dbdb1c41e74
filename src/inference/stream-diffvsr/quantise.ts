/**
 * Output quantisation as the reference does it: numpy's `(clamp(x/2 + 0.5, 0, 1) * 255).round()`
 * in float32, where `round` goes half to even (JavaScript's Math.round goes half up: 2.5 → 3,
 * numpy gives 2).
 */

import { levelTable } from '../../core/levels.js';

export { roundHalfEven } from '../../core/levels.js';

/** level / 255 in float32 for each 8-bit level. */
const LEVELS = levelTable(8);
/** Adding and subtracting 2^52 rounds a double in [0, 2^52) to an integer, ties to even. */
const ROUND_TO_EVEN = 4503599627370496;

/**
 * Decoder output (unclamped, ≈[-1,1]) → the emitted frame's planar RGB 0..1, holding exactly the
 * 8-bit levels the reference writes (level/255), so every later conversion sees those levels.
 */
export function quantiseToFrame(hr: Float32Array, out: Float32Array = new Float32Array(hr.length)): Float32Array {
  const f = Math.fround;
  for (let i = 0; i < hr.length; i++) {
    // hr·0.5 is exact; one rounding of the sum to float32 is the reference's `x/2 + 0.5`.
    const v = f(hr[i]! * 0.5 + 0.5);
    const scaled = v <= 0 ? 0 : v >= 1 ? 255 : f(v * 255);
    out[i] = LEVELS[(scaled + ROUND_TO_EVEN - ROUND_TO_EVEN) | 0]!;
  }
  return out;
}

/** The same quantisation, as 8-bit levels (tests, parity against the reference's uint8 frames). */
export function quantiseToLevels(hr: Float32Array): Uint8Array {
  const out = new Uint8Array(hr.length);
  const levels = quantiseToFrame(hr);
  for (let i = 0; i < levels.length; i++) out[i] = Math.round(levels[i]! * 255);
  return out;
}

/** 8-bit levels (the per-frame graph's `frame` output) → planar RGB 0..1 holding level/255, as quantiseToFrame writes. */
export function levelsToFrame(levels: Uint8Array, out: Float32Array = new Float32Array(levels.length)): Float32Array {
  for (let i = 0; i < levels.length; i++) out[i] = LEVELS[levels[i]!]!;
  return out;
}

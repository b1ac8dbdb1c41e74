import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../src/core/log.js';
import { OnnxSession } from '../../src/inference/session.js';
import { ort } from '../../src/inference/ort.js';
import { decodeRgb, sharedData } from './media.js';
import { random } from './tfjs-fixtures.js';

/** Planar (C,H,W) image; `data` in the model's own value range. */
export interface Planar {
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly data: Float64Array;
}

export function nhwcToPlanar(x: { h: number; w: number; c: number; data: Float64Array }): Planar {
  const data = new Float64Array(x.data.length);
  for (let p = 0; p < x.h * x.w; p++) for (let k = 0; k < x.c; k++) data[k * x.h * x.w + p] = x.data[p * x.c + k]!;
  return { c: x.c, h: x.h, w: x.w, data };
}

export function planarToNhwc(x: Planar): { h: number; w: number; c: number; data: Float64Array } {
  const data = new Float64Array(x.data.length);
  for (let p = 0; p < x.h * x.w; p++) for (let k = 0; k < x.c; k++) data[p * x.c + k] = x.data[k * x.h * x.w + p]!;
  return { h: x.h, w: x.w, c: x.c, data };
}

let firstLr: ReturnType<typeof decodeRgb> | undefined;

/** A w x h RGB patch (0..255) of the first vid4_walk LR frame, or deterministic noise without the data. */
export function testPatch(w: number, h: number, seed = 7): { patch: Planar; real: boolean } {
  const lr = sharedData('vid4_walk', 'lr_x4.mkv');
  const data = new Float64Array(3 * w * h);
  if (lr) {
    firstLr ??= decodeRgb(lr);
    const { frames, width } = firstLr;
    const f = frames[0]!;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) data[k * w * h + y * w + x] = f[((y + 40) * width + x + 60) * 3 + k]!;
  } else {
    const rnd = random(seed);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(rnd() * 255);
  }
  return { patch: { c: 3, h, w, data }, real: Boolean(lr) };
}

/** Runs an ONNX file (input `input`, output `output`, NCHW) on a planar image. */
export async function runOnnx(bytes: Uint8Array, dir: string, name: string, x: Planar): Promise<Planar> {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  const s = await OnnxSession.create(name, path, { device: { device: 'cpu' }, threads: 1, log: memoryLogger() });
  try {
    const out = (await s.run({ input: new (ort().Tensor)('float32', Float32Array.from(x.data), [1, x.c, x.h, x.w]) }, 'test')).output!;
    const [, c, h, w] = out.dims as number[];
    return { c: c!, h: h!, w: w!, data: Float64Array.from(out.data as Float32Array) };
  } finally {
    await s.release();
  }
}

export function maxAbsDiff(a: Planar, b: Planar): number {
  if (a.c !== b.c || a.h !== b.h || a.w !== b.w) throw new Error(`shapes differ: ${a.c}x${a.h}x${a.w} vs ${b.c}x${b.h}x${b.w}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

import { createHash } from 'node:crypto';
import { lastValueFrom, from, toArray } from 'rxjs';
import type { Frame, VideoInfo } from '../../src/core/frame.js';
import { rgbOf } from '../../src/core/frame.js';
import { memoryLogger } from '../../src/core/log.js';
import { loadModel } from '../../src/models/load.js';
import { superResolve } from '../../src/operators/super-resolve.js';

export function infoOf(width: number, height: number): VideoInfo {
  return {
    width, height, pixelFormat: 'rgb24', timeBase: { num: 1, den: 25 }, frameRate: { num: 25, den: 1 }, sampleAspect: { num: 1, den: 1 },
    color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  };
}

/** Packed RGB24 → the pipeline's planar float frame. */
export function frameFromRgb24(rgb: Buffer, info: VideoInfo, index: number): Frame {
  const n = info.width * info.height;
  const planes = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) planes[c * n + p] = rgb[3 * p + c]! / 255;
  return { info, pts: index, duration: 1, index, layout: 'rgb-float', rgb: planes };
}

/** Planar float output → 8-bit values, the form an encoder would get, for checksums. */
export function quantized(frame: Frame): Uint8Array {
  return Uint8Array.from(rgbOf(frame), (v) => Math.round(v * 255));
}

export function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Runs frames through a registry model inside the real superResolve operator (one-frame history window). */
export async function upscaleThroughOperator(model: string, scale: number, frames: Frame[], modelDirs: string[] = []): Promise<Frame[]> {
  const sr = await loadModel(model, { scale, modelDirs, session: { device: { device: 'cpu' }, threads: 1, log: memoryLogger() } });
  try {
    const output = await sr.configure(frames[0]!.info, 'rgb-float');
    return await lastValueFrom(from(frames).pipe(superResolve(sr, output), toArray()));
  } finally {
    await sr.dispose();
  }
}


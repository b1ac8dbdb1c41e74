import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, VideoInfo } from '../../src/core/frame.js';
import { rgbOf } from '../../src/core/frame.js';
import type { ModelState, SrModel } from '../../src/inference/sr-model.js';
import type { Ort } from '../../src/inference/ort.js';
import type { GraphName } from '../../src/inference/stream-diffvsr/export-manifest.js';
import { writeInterfaceExport, type InterfaceExportOptions } from '../../src/models/diffvsr-interface-export.js';
import { REAL_CHANNELS } from '../../src/models/diffvsr-interface-graphs.js';

/** Small channel counts with the real topology, for fast tests. */
export const SMALL_CHANNELS = { residuals: [8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32, 32], features: [4, 4, 4, 4, 4, 4, 4], textShape: REAL_CHANNELS.textShape };

const made: string[] = [];

/** A fresh interface export (graphs with the real names and shapes) in a temp folder. */
export async function interfaceExport(opts: InterfaceExportOptions = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-diffvsr-'));
  made.push(dir);
  await writeInterfaceExport(dir, { channels: SMALL_CHANNELS, ...opts });
  return dir;
}

/** Removes every export interfaceExport made (register with t.teardown). */
export function removeExports(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function lrInfo(width: number, height: number): VideoInfo {
  return {
    width,
    height,
    pixelFormat: 'rgb24',
    timeBase: { num: 1, den: 25 },
    frameRate: { num: 25, den: 1 },
    sampleAspect: { num: 1, den: 1 },
    color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  };
}

/**
 * A smooth pattern moving one pixel per frame (consecutive frames differ by far less than the
 * default reset threshold); `shot` changes the scene entirely.
 */
export function lrFrame(index: number, width = 40, height = 32, opts: { shot?: number; discontinuity?: boolean } = {}): Frame {
  const shot = opts.shot ?? 0;
  const plane = width * height;
  const rgb = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const u = x + index;
        const v = shot ? 0.15 + 0.1 * Math.cos(0.9 * x - 0.4 * y + c) : 0.5 + 0.35 * Math.sin(0.21 * u + 0.13 * y + c) * Math.cos(0.05 * y);
        rgb[c * plane + y * width + x] = Math.round(v * 255) / 255;
      }
    }
  }
  return { info: lrInfo(width, height), pts: index, duration: 1, index, layout: 'rgb-float', rgb, ...(opts.discontinuity ? { discontinuity: true } : {}) };
}

export interface RecordedRun {
  readonly graph: GraphName;
  readonly feeds: Readonly<Record<string, Ort.Tensor>>;
  /** Copies of the float data fed and returned (the runtime reuses its latents buffer). */
  readonly inputs: Readonly<Record<string, Float32Array>>;
  readonly outputs: Readonly<Record<string, Float32Array>>;
}

/** An onRun hook that records every session run, copying small tensors. */
export function recorder(copyLimit = 1 << 20) {
  const runs: RecordedRun[] = [];
  const copy = (ts: Readonly<Record<string, Ort.Tensor>>) => {
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(ts)) if ((v.data as Float32Array).length <= copyLimit) out[k] = (v.data as Float32Array).slice();
    return out;
  };
  const onRun = (graph: GraphName, feeds: Readonly<Record<string, Ort.Tensor>>, outputs: Readonly<Record<string, Ort.Tensor>>) => {
    runs.push({ graph, feeds, inputs: copy(feeds), outputs: copy(outputs) });
  };
  const counts = (from = 0, to = runs.length) => {
    const c: Record<string, number> = {};
    for (const r of runs.slice(from, to)) c[r.graph] = (c[r.graph] ?? 0) + 1;
    return c;
  };
  return { runs, onRun, counts };
}

/** Upscales `frames` in order as the superResolve operator does (state handed back), returning each output's float RGB. */
export async function upscaleInOrder(model: SrModel, frames: readonly Frame[]): Promise<Float32Array[]> {
  const outputs: Float32Array[] = [];
  let state: ModelState | undefined;
  for (const f of frames) {
    const step = await model.upscale(f, f.discontinuity ? undefined : state);
    outputs.push(rgbOf({ ...f, ...step.pixels }));
    state = step.state;
  }
  return outputs;
}

/**
 * Stream-DiffVSR runtime benchmark: the TypeScript-side work per frame (noise, scheduler, tensor
 * wrapping, normalisation, scene-cut test, quantisation: everything but session.run) and the
 * process's RSS, on interface graphs at 720p output sizes (or on a real export with --export).
 *
 *   node --expose-gc dist/src/bench/diffvsr-bench.js [--frames 30] [--lr 180x320] [--channels real|small]
 *        [--path both|frame|separate] [--pair] [--fetches] [--export DIR] [--rss-at 26,27,28,29,30]
 *        [--threads 1] [--out bench/diffvsr.json]
 *
 * `--path both` runs the separate graphs, then the per-frame graph, on the same frames in one
 * process (the interface export has both; the per-frame graph composes unet_step, or the pair with
 * --pair, and the separate path runs the same denoiser). Bytes crossing the session boundary are
 * the bytes of every tensor fed to and returned by session.run. Prints one JSON object on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.js';
import type { Frame, VideoInfo } from '../core/frame.js';
import type { ModelState } from '../inference/sr-model.js';
import type { Ort } from '../inference/ort.js';
import { loadModel } from '../models/load.js';
import { writeInterfaceExport } from '../models/diffvsr-interface-export.js';
import { REAL_CHANNELS } from '../models/diffvsr-interface-graphs.js';
import { measureTsParts } from './diffvsr-parts.js';

const SMALL = { residuals: [4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 16, 16, 16], features: [4, 4, 4, 4, 4, 4, 4], textShape: REAL_CHANNELS.textShape };

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '30' },
    lr: { type: 'string', default: '180x320' },
    channels: { type: 'string', default: 'real' },
    path: { type: 'string', default: 'both' },
    pair: { type: 'boolean', default: false },
    fetches: { type: 'boolean', default: false },
    export: { type: 'string' },
    'rss-at': { type: 'string', default: '' },
    threads: { type: 'string', default: '1' },
    /** Where the per-frame graph's ONNX Runtime computes: worker or main (what crossing threads costs; a live input gets worker); the separate graphs are always on the main thread. */
    'ort-thread': { type: 'string' },
    out: { type: 'string' },
  },
});

if (!['both', 'frame', 'separate'].includes(values.path!)) throw new Error(`--path ${values.path}: both, frame or separate`);
const ortThread = values['ort-thread'] as 'worker' | 'main' | undefined;
if (ortThread !== undefined && !['worker', 'main'].includes(ortThread)) throw new Error(`--ort-thread ${ortThread}: worker or main`);
const [h, w] = values.lr!.split('x').map(Number) as [number, number];
const frames = Number(values.frames);
const rssAt = new Set(values['rss-at']!.split(',').filter(Boolean).map(Number));
const gc = (globalThis as { gc?: () => void }).gc;

function info(): VideoInfo {
  return { width: w, height: h, pixelFormat: 'rgb24', timeBase: { num: 1, den: 25 }, sampleAspect: { num: 1, den: 1 }, color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' } };
}

/** A pattern panning one pixel per frame: every frame after the first takes the temporal path. */
function frame(index: number): Frame {
  const rgb = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb[(c * h + y) * w + x] = 0.5 + 0.4 * Math.sin(0.07 * (x + index) + 0.05 * y + c);
  return { info: info(), pts: index, duration: 1, index, layout: 'rgb-float', rgb };
}

/** RSS after two full collections with a turn of the event loop between (external buffers are freed in finalizers). */
async function rssMb(): Promise<number> {
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const pick = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), median: pick(0.5), p90: pick(0.9), max: s[s.length - 1] ?? 0 };
};
const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 100) / 100]));

const tmp = values.export ? undefined : mkdtempSync(join(tmpdir(), 'stream-sr-diffvsr-bench-'));
const dir = values.export ?? tmp!;
const denoiser = values.pair ? 'pair' : 'fused';
if (tmp) await writeInterfaceExport(tmp, { sizes: [[h, w]], channels: values.channels === 'small' ? SMALL : REAL_CHANNELS, frameSteps: [4], frameDenoiser: denoiser });

const bytesOf = (ts: Readonly<Record<string, Ort.Tensor>>) => Object.values(ts).reduce((n, t) => n + (t.data as ArrayBufferView).byteLength, 0);

/** Runs `frames` frames through one path; everything measured per frame. */
async function measure(frameGraph: boolean) {
  let sessionMs = 0;
  let fed = 0;
  let fetched = 0;
  let runs = 0;
  const model = await loadModel(dir, {
    scale: 4,
    session: { device: { device: 'cpu' }, threads: Number(values.threads), ...(ortThread ? { thread: ortThread } : {}), log: silentLogger, onRunTime: (ms) => (sessionMs += ms) },
    diffusion: {
      frameGraph,
      ...(frameGraph ? { preallocatedOutputs: values.fetches } : { fused: denoiser === 'fused' }),
      onRun: (_graph, feeds, outputs) => {
        fed += bytesOf(feeds);
        fetched += bytesOf(outputs);
        runs++;
      },
    },
  });
  await model.configure(info(), 'rgb-float');
  const tsMs: number[] = [];
  const totalMs: number[] = [];
  const rss: Record<string, number> = {};
  let state: ModelState | undefined;
  for (let i = 0; i < frames; i++) {
    const current = frame(i);
    sessionMs = 0;
    const t0 = performance.now();
    ({ state } = await model.upscale(current, state));
    const total = performance.now() - t0;
    totalMs.push(total);
    tsMs.push(total - sessionMs);
    if (i === 0) fed = fetched = runs = 0; // count the later (history) frames
    if (rssAt.has(i + 1)) rss[String(i + 1)] = Math.round((await rssMb()) * 10) / 10;
  }
  await model.dispose();
  const later = Math.max(1, frames - 1);
  const mb = (bytes: number) => Math.round((bytes / later / 2 ** 20) * 10) / 10;
  return {
    graphs: frameGraph ? `per-frame graph (${denoiser === 'fused' ? 'unet_step' : 'controlnet → unet'} composed${values.fetches ? ', pre-allocated outputs' : ''})` : `separate graphs (${denoiser === 'fused' ? 'unet_step' : 'controlnet → unet'})`,
    tsMsPerFrame: { firstFrame: Math.round(tsMs[0]! * 100) / 100, laterFrames: round(stats(tsMs.slice(1))) },
    totalMsPerFrame: round(stats(totalMs.slice(1))),
    sessionRunsPerFrame: Math.round((runs / later) * 100) / 100,
    mbCrossingPerFrame: { fed: mb(fed), returned: mb(fetched) },
    rssMbAfterFrames: rss,
  };
}

const paths: Record<string, Awaited<ReturnType<typeof measure>>> = {};
if (values.path !== 'frame') paths.separate = await measure(false);
if (values.path !== 'separate') paths.frame = await measure(true);
if (tmp) rmSync(tmp, { recursive: true, force: true });

const frameBytes = { lrFrame: 3 * 4 * h * w, hrState: 3 * 4 * 16 * h * w, noise: 4 * 4 * h * w, output8bit: 3 * 16 * h * w };
const result = {
  lr: [h, w],
  hr: [4 * h, 4 * w],
  frames,
  graphs: values.export ? `export ${values.export}` : `interface graphs, ${values.channels} channels`,
  ortThread: `per-frame graph: ${ortThread ?? 'main (the default)'}; separate graphs: main`,
  paths,
  /** What the per-frame graph must move, MB: in = 2 LR frames + previous HR + noise, out = HR state + 8-bit frame. */
  pictureMb: Object.fromEntries(Object.entries(frameBytes).map(([k, v]) => [k, Math.round((v / 2 ** 20) * 100) / 100])),
  tsParts: measureTsParts(h, w),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  gcExposed: Boolean(gc),
};
const text = JSON.stringify(result, null, 2) + '\n';
if (values.out) writeFileSync(values.out, text);
process.stdout.write(text);

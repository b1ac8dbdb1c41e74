/**
 * Stream-DiffVSR runtime benchmark: the TypeScript-side work per frame (noise, scheduler, tensor
 * wrapping, normalisation, scene-cut test, quantisation: everything but session.run) and the
 * process's RSS, on interface graphs at 720p output sizes (or on a real export with --export).
 *
 *   node --expose-gc dist/src/bench/diffvsr-bench.js [--frames 30] [--lr 180x320] [--channels real|small]
 *        [--fused] [--export DIR] [--rss-at 26,27,28,29,30] [--threads 1] [--out bench/diffvsr.json]
 *
 * Prints one JSON object on stdout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.js';
import type { Frame, VideoInfo } from '../core/frame.js';
import type { ModelState } from '../inference/sr-model.js';
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
    fused: { type: 'boolean', default: false },
    export: { type: 'string' },
    'rss-at': { type: 'string', default: '' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});

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
if (tmp) await writeInterfaceExport(tmp, { sizes: [[h, w]], channels: values.channels === 'small' ? SMALL : REAL_CHANNELS });
let sessionMs = 0;
const model = await loadModel(dir, {
  scale: 4,
  session: { device: { device: 'cpu' }, threads: Number(values.threads), log: silentLogger, onRunTime: (ms) => (sessionMs += ms) },
  diffusion: { fused: values.fused },
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
  if (rssAt.has(i + 1)) rss[String(i + 1)] = Math.round((await rssMb()) * 10) / 10;
}
await model.dispose();
if (tmp) rmSync(tmp, { recursive: true, force: true });

const result = {
  lr: [h, w],
  hr: [4 * h, 4 * w],
  frames,
  graphs: values.export ? `export ${values.export}` : `interface graphs, ${values.channels} channels${values.fused ? ', fused unet_step' : ''}`,
  tsMsPerFrame: { firstFrame: Math.round(tsMs[0]! * 100) / 100, laterFrames: round(stats(tsMs.slice(1))) },
  totalMsPerFrame: round(stats(totalMs.slice(1))),
  tsParts: measureTsParts(h, w),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  rssMbAfterFrames: rss,
  gcExposed: Boolean(gc),
};
const text = JSON.stringify(result, null, 2) + '\n';
if (values.out) writeFileSync(values.out, text);
process.stdout.write(text);

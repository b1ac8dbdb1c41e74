import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planGraphTensorRt } from '../src/inference/tensorrt.js';
import { graphHash } from '../src/inference/stream-diffvsr/frame-graph.js';
import { memoryLogger } from '../src/core/log.js';
import { UsageError } from '../src/core/errors.js';
import type { Frame } from '../src/core/frame.js';
import type { Ort } from '../src/inference/ort.js';
import { loadModel } from '../src/models/load.js';
import type { DiffVsrOptions, FrameTrace } from '../src/inference/stream-diffvsr/runtime.js';
import type { DenoiserForm } from '../src/models/diffvsr-frame-graph.js';
import { PrefetchedNoise } from '../src/inference/stream-diffvsr/noise-prefetch.js';
import { gaussianNoise } from '../src/inference/stream-diffvsr/noise.js';
import { interfaceExport, lrFrame, lrInfo, recorder, removeExports, upscaleInOrder } from './helpers/diffvsr.js';

t.teardown(removeExports);

// start, two history frames, a scene cut (another shot), a history frame in the new shot
const FRAMES = [0, 1, 2, 3, 4].map((i) => lrFrame(i, 40, 32, { shot: i >= 3 ? 1 : 0 }));
const PATHS = ['first', 'history', 'history', 'first', 'history'];

async function run(dir: string, options: DiffVsrOptions, frames: Frame[] = FRAMES) {
  const rec = recorder(1 << 22);
  const traces: FrameTrace[] = [];
  const model = await loadModel(dir, { scale: 4, session: { device: { device: 'cpu' }, threads: 1, log: memoryLogger() }, diffusion: { ...options, onRun: rec.onRun, onFrame: (f) => traces.push(f) } });
  await model.configure(frames[0]!.info);
  const outputs = await upscaleInOrder(model, frames);
  await model.dispose();
  return { rec, traces, outputs };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const CASES: Array<{ steps: number; denoiser: DenoiserForm; sizes?: Array<[number, number]> }> = [
  { steps: 4, denoiser: 'fused', sizes: [[32, 40]] },
  { steps: 2, denoiser: 'pair' },
  { steps: 4, denoiser: 'pair' },
  { steps: 2, denoiser: 'fused' },
];

for (const { steps, denoiser, sizes } of CASES) {
  const what = `${steps} steps, ${denoiser === 'fused' ? 'unet_step' : 'controlnet → unet'}, ${sizes ? 'static 40x32' : 'symbolic sizes'}`;
  t.test(`per-frame graph == separate graphs: ${what}; first frame, later frames, after a scene cut`, async (t) => {
    const dir = await interfaceExport({ frameSteps: [steps], frameDenoiser: denoiser, ...(sizes ? { sizes } : {}) });
    const one = await run(dir, { steps, frameGraph: true });
    const separate = await run(dir, { steps, frameGraph: false, fused: denoiser === 'fused' });
    const eightBit = await run(dir, { steps, frameGraph: true, preallocatedOutputs: true, prefetchNoise: false });
    t.same(one.traces.map((f) => f.path), PATHS, 'per-frame graph: first, history, history, scene cut → first, history');
    t.same(separate.traces.map((f) => f.path), PATHS, 'separate graphs: the same paths');
    t.same(
      one.rec.runs.map((r) => r.graph),
      PATHS.map((p) => `frame_${p}`),
      'one session run per frame, of the graph for its kind',
    );
    const decoded = separate.rec.runs.filter((r) => r.graph === 'tae_decode' || r.graph === 'tae_decode_temporal');
    t.equal(separate.rec.counts()[denoiser === 'fused' ? 'unet_step' : 'unet'], steps * FRAMES.length, `separate graphs: ${steps} denoiser runs per frame`);
    for (let f = 0; f < FRAMES.length; f++) {
      const hrOne = one.rec.runs[f]!.outputs.hr!;
      const hrSeparate = decoded[f]!.outputs.image!;
      t.equal(maxDiff(hrOne, hrSeparate), 0, `frame ${f} (${PATHS[f]}): the unclamped HR outputs are equal`);
      t.equal(maxDiff(one.outputs[f]!, separate.outputs[f]!), 0, `frame ${f}: the emitted 8-bit frames are equal (the graph's levels output)`);
      t.equal(maxDiff(eightBit.outputs[f]!, separate.outputs[f]!), 0, `frame ${f}: … and through the graph's uint8 frame output`);
    }
    t.ok(maxDiff(one.outputs[1]!, one.outputs[2]!) > 0 && maxDiff(one.outputs[3]!, one.outputs[4]!) > 0, 'consecutive frames differ (the comparison is not of constants)');
  });
}

for (const preallocatedOutputs of [false, true]) {
  t.test(`buffers are reused across frames${preallocatedOutputs ? ', outputs written into pre-allocated tensors' : ''}`, async (t) => {
    const dir = await interfaceExport({ frameSteps: [4] });
    const fed: Array<Record<string, ArrayBufferLike>> = [];
    const fetched: Array<Record<string, ArrayBufferLike>> = [];
    const buffers = (ts: Readonly<Record<string, Ort.Tensor>>) => Object.fromEntries(Object.entries(ts).map(([k, v]) => [k, (v.data as Float32Array).buffer]));
    const model = await loadModel(dir, {
      scale: 4,
      session: { device: { device: 'cpu' }, threads: 1, log: memoryLogger() },
      diffusion: { preallocatedOutputs, onRun: (_graph, feeds, outputs) => (fed.push(buffers(feeds)), fetched.push(buffers(outputs))) },
    });
    await model.configure(lrInfo(40, 32));
    const frames = [0, 1, 2, 3].map((i) => lrFrame(i, 40, 32));
    const emitted = await upscaleInOrder(model, frames);
    await model.dispose();
    for (let i = 1; i < 4; i++) {
      t.equal(fed[i]!.prev_hr, fetched[i - 1]!.hr, `frame ${i}: prev_hr is the previous frame's hr output, not a copy`);
      t.equal(fed[i]!.prev_lr, fed[i - 1]!.lr, `frame ${i}: prev_lr is the previous frame's lr buffer`);
      t.not(fed[i]!.lr, fed[i - 1]!.lr, `frame ${i}: the current LR goes into the other buffer`);
      if (i > 1) t.equal(fed[i]!.lr, fed[i - 2]!.lr, `frame ${i}: two LR buffers, alternating`);
      t.equal(fed[i]!.noise, fed[0]!.noise, `frame ${i}: the noise goes into the same buffer`);
      if (preallocatedOutputs) {
        t.equal(fetched[i]!.frame, fetched[0]!.frame, `frame ${i}: the 8-bit output is written into the same buffer`);
        if (i > 1) t.equal(fetched[i]!.hr, fetched[i - 2]!.hr, `frame ${i}: two hr buffers, alternating`);
      }
    }
    t.equal(new Set(emitted.map((e) => e.buffer)).size, 4, 'each emitted frame is its own array (the pipeline keeps it)');
  });
}

t.test('choosing the path: default, forced, and a step count without a per-frame graph', async (t) => {
  const dir = await interfaceExport({ frameSteps: [4] });
  const plain = await run(dir, {}, FRAMES.slice(0, 2));
  t.same(plain.rec.counts(), { frame_first: 1, frame_history: 1 }, 'by default the per-frame graph runs when the export has one');
  const three = await run(dir, { steps: 3 }, FRAMES.slice(0, 1));
  t.same(three.rec.counts(), { unet: 3, tae_decode: 1 }, 'no per-frame graph for 3 steps: the separate graphs');
  const forced = run(dir, { steps: 3, frameGraph: true }, FRAMES.slice(0, 1));
  await t.rejects(forced, UsageError, 'frameGraph: true without a graph for the step count is a user error');
  await t.rejects(forced, /has no per-frame graph for 3 steps \(it has them for 4; export with --steps 3/);
  const old = await interfaceExport();
  await t.rejects(run(old, { frameGraph: true }, FRAMES.slice(0, 1)), /has no per-frame graph for 4 steps \(it has none/);
});

t.test('the noise drawn ahead on a worker thread is the seeded noise, bit for bit', async (t) => {
  const noise = new PrefetchedNoise(7);
  t.teardown(() => noise.close());
  const out = new Float32Array(4 * 8 * 10);
  for (const draw of [0, 1, 2, 5, 6]) {
    await noise.fillAhead(draw, out);
    t.same(out, gaussianNoise(7, draw, new Float32Array(out.length)), `draw ${draw}`);
  }
  t.equal(noise.prefetched, 3, 'draws 1, 2 and 6 (each the one after the last) came from the worker; 0 and 5 were drawn on this thread');
});

t.test('TensorRT: the engine cache folder is keyed by the graph hash; --image-height/--image-width give one fixed profile', async (t) => {
  const dir = await interfaceExport({ frameSteps: [4], sizes: [[32, 40]] });
  const file = join(dir, 'frame_history-4steps-40x32.onnx');
  const hash = await graphHash(file);
  t.equal(hash, createHash('sha256').update(readFileSync(file)).digest('hex'), 'the hash is the SHA-256 of the graph file');
  const other = await interfaceExport({ frameSteps: [4], sizes: [[32, 40]], frameDenoiser: 'pair' });
  t.not(await graphHash(join(other, 'frame_history-4steps-40x32.onnx')), hash, 'another graph, another hash');
  const settings = { device: { device: 'tensorrt' as const }, log: memoryLogger(), engineCacheDir: '/cache', fixedInputShape: { height: 32, width: 40 } };
  const shapes = { lr: [1, 3, 32, 40], prev_hr: [1, 3, 128, 160] };
  const plan = planGraphTensorRt('stream-diffvsr-frame_history-4steps', hash, shapes, settings);
  t.equal(plan.cacheDir, `/cache/stream-diffvsr-frame_history-4steps-fp32-40x32-${hash.slice(0, 16)}`);
  t.equal(plan.env.ORT_TENSORRT_CACHE_PATH, plan.cacheDir);
  for (const k of ['MIN', 'OPT', 'MAX']) t.equal(plan.env[`ORT_TENSORRT_PROFILE_${k}_SHAPES`], 'lr:1x3x32x40,prev_hr:1x3x128x160', `${k} shapes: one profile, one engine`);
  t.not(planGraphTensorRt('stream-diffvsr-frame_history-4steps', 'f'.repeat(64), shapes, settings).cacheDir, plan.cacheDir, 'a re-exported graph never loads the old engine');
});

import t from 'tap';
import { memoryLogger } from '../src/core/log.js';
import { UsageError } from '../src/core/errors.js';
import { rgbOf, scaledInfo, type Frame } from '../src/core/frame.js';
import { loadModel } from '../src/models/load.js';
import type { ModelState, SrModel } from '../src/inference/sr-model.js';
import type { DiffVsrOptions, FrameTrace } from '../src/inference/stream-diffvsr/runtime.js';
import { injectedNoise } from '../src/inference/stream-diffvsr/noise.js';
import { RESIDUALS } from '../src/inference/stream-diffvsr/interface.js';
import { superResolve } from '../src/operators/super-resolve.js';
import { Harness } from './helpers/harness.js';
import { interfaceExport, lrFrame, lrInfo, recorder, removeExports } from './helpers/diffvsr.js';

const EXPORT = await interfaceExport();
t.teardown(removeExports);

async function open(options: DiffVsrOptions & { dir?: string; fp16?: boolean; device?: 'cpu' | 'cuda' } = {}, log = memoryLogger()): Promise<SrModel> {
  return loadModel(options.dir ?? EXPORT, { scale: 4, session: { device: { device: options.device ?? 'cpu' }, threads: 1, ...(options.fp16 ? { fp16: true } : {}), log }, diffusion: options });
}

/** Runs frames through the model handing back its state (dropped at a discontinuity), returning the outputs. */
async function stream(model: SrModel, frames: Frame[]): Promise<Float32Array[]> {
  await model.configure(frames[0]!.info);
  const out: Float32Array[] = [];
  let previous: Frame | null = null;
  let state: ModelState | undefined;
  for (const f of frames) {
    // as superResolve, but a size change keeps the state, so the runtime's own size check is seen
    const step = await model.upscale(f, f.discontinuity ? undefined : state);
    out.push(rgbOf({ ...f, ...step.pixels }));
    state = step.state;
    previous = f;
  }
  return out;
}

t.test('call counts: the first frame skips flow, warp and ControlNet; later frames run the temporal path', async (t) => {
  const rec = recorder();
  const model = await open({ onRun: rec.onRun });
  await model.configure(lrInfo(40, 32));
  const first = await model.upscale(lrFrame(0), undefined);
  t.same(rec.counts(), { unet: 4, tae_decode: 1 }, 'frame 0: 4 UNet calls and the plain decoder only');
  for (const run of rec.runs.filter((r) => r.graph === 'unet')) {
    t.ok(RESIDUALS.every((name) => run.inputs[name]!.every((v) => v === 0)), 'the UNet gets all-zero residuals');
  }
  const mark = rec.runs.length;
  await model.upscale(lrFrame(1), first.state);
  t.same(rec.counts(mark), { flow: 1, warp_encode: 1, controlnet: 4, unet: 4, tae_decode_temporal: 1 }, 'frame 1');
  t.same(
    rec.runs.slice(mark).map((r) => r.graph),
    ['flow', 'warp_encode', 'controlnet', 'unet', 'controlnet', 'unet', 'controlnet', 'unet', 'controlnet', 'unet', 'tae_decode_temporal'],
    'in the order of the algorithm',
  );
  await model.dispose();
});

t.test('timesteps in order, one text-embedding tensor everywhere, the same LR for the concat and the next flow', async (t) => {
  const rec = recorder();
  const model = await open({ onRun: rec.onRun });
  await stream(model, [lrFrame(0), lrFrame(1), lrFrame(2)]);
  const denoiser = rec.runs.filter((r) => r.graph === 'unet' || r.graph === 'controlnet');
  t.same(rec.runs.filter((r) => r.graph === 'unet').map((r) => r.inputs.timestep![0]), [999, 749, 499, 249, 999, 749, 499, 249, 999, 749, 499, 249]);
  t.same(rec.runs.filter((r) => r.graph === 'controlnet').map((r) => r.inputs.timestep![0]), [999, 749, 499, 249, 999, 749, 499, 249]);
  const text = denoiser[0]!.feeds.encoder_hidden_states!;
  t.ok(denoiser.every((r) => r.feeds.encoder_hidden_states === text), `the same tensor object in all ${denoiser.length} calls`);
  const unets = rec.runs.filter((r) => r.graph === 'unet');
  const flows = rec.runs.filter((r) => r.graph === 'flow');
  t.same(flows[0]!.inputs.prev_lr, unets[0]!.inputs.lr_image, "frame 0's lr_image is frame 1's prev_lr");
  t.same(flows[1]!.inputs.cur_lr, unets[8]!.inputs.lr_image, "frame 2's cur_lr is its lr_image");
  t.same(Array.from(unets[0]!.inputs.lr_image!.subarray(0, 3)), Array.from(rgbOf(lrFrame(0)).subarray(0, 3), (v) => Math.fround(v * 2 - 1)), 'lr = 2x − 1');
  const controls = rec.runs.filter((r) => r.graph === 'controlnet');
  const warps = rec.runs.filter((r) => r.graph === 'warp_encode');
  t.same(controls[0]!.inputs.warped_prev_hr, warps[0]!.outputs.warped_prev_hr, 'the ControlNet is conditioned on the warped previous output');
  await model.dispose();
});

t.test('the unclamped HR output is the state: the frame is clamped, the next warp input is not', async (t) => {
  const rec = recorder();
  const model = await open({ onRun: rec.onRun });
  const [out0] = await stream(model, [lrFrame(0), lrFrame(1)]);
  const decoded = rec.runs.find((r) => r.graph === 'tae_decode')!.outputs.image!;
  const outside = decoded.filter((v) => v > 1 || v < -1).length;
  t.ok(outside > 100, `the stub decoder leaves [-1, 1] (${outside} values)`);
  t.ok(out0!.every((v) => v >= 0 && v <= 1), 'the emitted frame is clamped to 0..1');
  const warp = rec.runs.find((r) => r.graph === 'warp_encode')!;
  t.same(warp.inputs.prev_hr, decoded, "the next frame warps the decoder's own float output");
  await model.dispose();
});

t.test('history is dropped at a discontinuity, a size change and a scene cut, and kept otherwise', async (t) => {
  const traces: FrameTrace[] = [];
  const model = await open({ onFrame: (trace) => traces.push(trace) });
  const big = (i: number) => ({ ...lrFrame(i, 44, 36), index: i });
  const frames = [lrFrame(0), lrFrame(1), { ...lrFrame(2), discontinuity: true }, lrFrame(3), big(4), big(5), { ...lrFrame(6, 44, 36, { shot: 1 }), index: 6 }, big(7)];
  const outputs = await stream(model, frames);
  t.same(
    traces.map((x) => [x.path, x.reason]),
    [['first', 'start'], ['history', undefined], ['first', 'discontinuity'], ['history', undefined], ['first', 'size change'], ['history', undefined], ['first', 'scene cut'], ['first', 'scene cut']],
  );
  t.equal(outputs[5]!.length, 3 * 44 * 4 * 36 * 4, 'the new size is upscaled x4');
  t.ok(traces[6]!.difference! > 0.1, `cut difference ${traces[6]!.difference}`);
  t.ok(traces[1]!.difference! < 0.05, `motion difference ${traces[1]!.difference}`);
  await model.dispose();
});

t.test('--reset-threshold: 0 drops the history on any change, 1 never', async (t) => {
  for (const [threshold, expected] of [[0, ['first', 'first', 'first']], [1, ['first', 'history', 'history']]] as const) {
    const traces: FrameTrace[] = [];
    const model = await open({ resetThreshold: threshold, onFrame: (x) => traces.push(x) });
    await stream(model, [lrFrame(0), lrFrame(1), lrFrame(2, 40, 32, { shot: 1 })]);
    t.same(traces.map((x) => x.path), expected, `threshold ${threshold}`);
    await model.dispose();
  }
});

t.test('through the superResolve operator: its window resets drive the runtime', async (t) => {
  const traces: FrameTrace[] = [];
  const model = await open({ onFrame: (x) => traces.push(x) });
  const output = await model.configure(lrInfo(40, 32));
  t.same([output.width, output.height], [160, 128]);
  const h = new Harness(superResolve(model, scaledInfo(lrInfo(40, 32), 4)));
  h.push(lrFrame(0));
  h.push(lrFrame(1));
  h.push({ ...lrFrame(2), discontinuity: true });
  h.push(lrFrame(3));
  h.end();
  const out = await h.pull(4, 60000);
  t.same(out.map((f) => [f.index, f.info.width, f.info.height]), [[0, 160, 128], [1, 160, 128], [2, 160, 128], [3, 160, 128]]);
  t.same(traces.map((x) => x.path), ['first', 'history', 'first', 'history']);
  await model.dispose();
});

t.test('determinism: same seed → identical bytes across fresh instances; another seed differs; injected noise wins', async (t) => {
  const frames = [lrFrame(0), lrFrame(1), lrFrame(2)];
  const run = async (opts: DiffVsrOptions) => {
    const model = await open(opts);
    const out = await stream(model, frames);
    await model.dispose();
    return Buffer.concat(out.map((o) => Buffer.from(o.buffer, o.byteOffset, o.byteLength)));
  };
  const a = await run({ seed: 7 });
  t.ok(a.equals(await run({ seed: 7 })), 'seed 7 twice: byte-identical');
  t.notOk(a.equals(await run({ seed: 8 })), 'seed 8 differs');
  const noise = [0, 1, 2].map((i) => Float32Array.from({ length: 4 * 32 * 40 }, (_, k) => Math.sin(k + i)));
  const injected = await run({ seed: 1, noise: injectedNoise(noise) });
  t.ok(injected.equals(await run({ seed: 2, noise: injectedNoise(noise) })), 'injected noise makes the seed irrelevant');
  t.notOk(injected.equals(a));
});

t.test('the fused unet_step graph: scale 0 on the first frame, the same result as controlnet → unet', async (t) => {
  const rec = recorder();
  const fused = await open({ fused: true, onRun: rec.onRun, seed: 3 });
  const frames = [lrFrame(0), lrFrame(1)];
  const a = await stream(fused, frames);
  t.same(rec.counts(), { unet_step: 8, tae_decode: 1, flow: 1, warp_encode: 1, tae_decode_temporal: 1 });
  const steps = rec.runs.filter((r) => r.graph === 'unet_step');
  t.same(steps.map((r) => r.inputs.controlnet_scale![0]), [0, 0, 0, 0, 1, 1, 1, 1]);
  t.ok(steps.slice(0, 4).every((r) => r.inputs.warped_prev_hr!.every((v) => v === 0)), 'first frame: a zero condition');
  const pair = await open({ fused: false, seed: 3 });
  const b = await stream(pair, frames);
  let worst = 0;
  for (let f = 0; f < 2; f++) for (let i = 0; i < a[f]!.length; i++) worst = Math.max(worst, Math.abs(a[f]![i]! - b[f]![i]!));
  t.ok(worst <= 1 / 255 + 1e-6, `fused and pair agree to one level (${worst * 255})`);
  await fused.dispose();
  await pair.dispose();
});

t.test('--steps other than the distilled 4 runs with a warning and the recomputed timesteps', async (t) => {
  const log = memoryLogger();
  const rec = recorder();
  const model = await open({ steps: 2, onRun: rec.onRun }, log);
  await stream(model, [lrFrame(0)]);
  t.same(rec.runs.filter((r) => r.graph === 'unet').map((r) => r.inputs.timestep![0]), [999, 499]);
  t.match(log.lines.join('\n'), /distilled for 4 denoising steps; running 2/);
  await model.dispose();
  await t.rejects(open({ steps: 0 }), UsageError);
});

t.test('frames the model cannot take are refused before the first frame, naming the sizes', async (t) => {
  const model = await open();
  await t.rejects(model.configure(lrInfo(42, 32)), /multiples of 4 and at least 32.*42x32/);
  await t.rejects(model.configure(lrInfo(40, 28)), /40x28/);
  await model.dispose();
  await t.rejects(loadModel(EXPORT, { scale: 2, session: { device: { device: 'cpu' }, log: memoryLogger() } }), /x4 only/);
  const fixed = await interfaceExport({ sizes: [[32, 40]] });
  const staticModel = await open({ dir: fixed });
  t.same((await staticModel.configure(lrInfo(40, 32))).width, 160, 'the exported profile opens');
  await t.rejects(staticModel.configure(lrInfo(44, 36)), /profiles are 40x32.*export one for 44x36/);
  await staticModel.dispose();
});

t.test('--fp16 on the CPU warns and runs the float32 graphs', async (t) => {
  const log = memoryLogger();
  const model = await open({ fp16: true }, log);
  await stream(model, [lrFrame(0)]);
  t.match(log.lines.join('\n'), /--fp16 applies to GPU execution providers/);
  await model.dispose();
});

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussianNoise, injectedNoise, philox4x32, seededNoise } from '../src/inference/stream-diffvsr/noise.js';
import { alphasCumprod, ddimStep, ddimTimesteps, scheduleFor, stepCoefficients } from '../src/inference/stream-diffvsr/scheduler.js';
import { quantiseToFrame, quantiseToLevels, roundHalfEven } from '../src/inference/stream-diffvsr/quantise.js';
import { bicubicUpscale, flowWarp } from '../src/inference/stream-diffvsr/reference-ops.js';
import { flowGraph, warpGraph } from '../src/models/diffvsr-interface-graphs.js';
import { TRAILING_4 } from '../src/models/diffvsr-interface-export.js';
import { parseExport } from '../src/inference/stream-diffvsr/export-manifest.js';
import { OnnxSession } from '../src/inference/session.js';
import { ort } from '../src/inference/ort.js';
import { memoryLogger } from '../src/core/log.js';

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');
const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

t.test('Philox4x32-10 reproduces the Random123 known-answer vectors', async (t) => {
  t.equal(hex(philox4x32([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  t.equal(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  t.equal(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])), 'd16cfe09 94fdcceb 5001e420 24126ea1');
});

t.test('seeded noise: pinned values, one independent stream per frame and seed, standard normal', async (t) => {
  const first = Array.from(gaussianNoise(42, 0, new Float32Array(6)));
  const pinned = [-0.9701898097991943, 0.19401895999908447, -1.2356207370758057, 1.9239267110824585, -0.07318150997161865, 0.13913749158382416];
  t.same(first, pinned, 'seed 42, frame 0: the documented generator gives these bits everywhere');
  const a = gaussianNoise(7, 3, new Float32Array(1001));
  t.same(gaussianNoise(7, 3, new Float32Array(1001)), a, 'same seed and frame → same bits');
  t.notSame(gaussianNoise(7, 4, new Float32Array(1001)), a, 'the next frame draws other values');
  t.notSame(gaussianNoise(8, 3, new Float32Array(1001)), a, 'another seed draws other values');
  t.same(gaussianNoise(7, 3, new Float32Array(10)), a.subarray(0, 10), 'a prefix does not depend on the length');
  const big = gaussianNoise(2024, 0, new Float32Array(400_000));
  let sum = 0;
  let sq = 0;
  let beyond3 = 0;
  for (const v of big) {
    sum += v;
    sq += v * v;
    if (Math.abs(v) > 3) beyond3++;
  }
  const mean = sum / big.length;
  t.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  t.ok(Math.abs(sq / big.length - mean * mean - 1) < 0.02, `variance ${sq / big.length}`);
  t.ok(Math.abs(beyond3 / big.length - 0.0027) < 0.0006, `tail mass beyond 3σ ${beyond3 / big.length}`);
  t.throws(() => seededNoise(-1), /seed/);
  t.throws(() => seededNoise(1.5), /seed/);
});

t.test('injected noise replaces the generator frame by frame and runs out loudly', async (t) => {
  const frames = [Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8)];
  const src = injectedNoise(frames);
  const out = new Float32Array(4);
  src.fill(1, out);
  t.same(Array.from(out), [5, 6, 7, 8]);
  t.throws(() => src.fill(2, out), /frame draw 2/);
  t.throws(() => src.fill(0, new Float32Array(5)), /holds 4 values/);
});

t.test('timestep spacings follow diffusers 0.27.2', async (t) => {
  t.same(ddimTimesteps('trailing', 4), [999, 749, 499, 249]);
  t.same(ddimTimesteps('leading', 4, 1000, 1), [751, 501, 251, 1]);
  t.same(ddimTimesteps('linspace', 4), [999, 666, 333, 0]);
  t.same(ddimTimesteps('trailing', 16).slice(0, 4), [999, 937, 874, 811], 'numpy rounds 937.5 up to 938 and 812.5 down to 812 (half to even)');
  t.same(ddimTimesteps('trailing', 1), [999]);
  t.throws(() => ddimTimesteps('trailing', 0), /steps/);
});

t.test('ᾱ recomputed in double agrees with the reference float32 table within 1e-6 relative', async (t) => {
  const table = alphasCumprod({ numTrainTimesteps: 1000, betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'scaled_linear' });
  const reference: Record<number, number> = { 999: 0.000733411987, 749: 0.0386055075, 499: 0.333187819, 249: 0.821521223, 0: 0.999899983, 751: 0.0376980901, 501: 0.32936582, 251: 0.818492532, 1: 0.999797344 };
  for (const [step, value] of Object.entries(reference)) {
    const got = table[Number(step)]!;
    t.ok(Math.abs(got - value) / value < 1e-6, `ᾱ_${step} ${got} vs ${value}`);
  }
});

t.test('the schedule: exported constants for the distilled steps, recomputed ones otherwise', async (t) => {
  const exp = parseExport({ format: 'stream-diffvsr-onnx/1', scheduler: TRAILING_4, text_embedding: { file: 'e.f32', shape: [1, 77, 1024] }, graphs: {} }, '/x/manifest.json');
  const four = scheduleFor(exp.scheduler);
  t.same(four.timesteps, [999, 749, 499, 249]);
  t.same(four.alphaT, TRAILING_4.alphas_cumprod_t);
  t.same(four.alphaPrev, TRAILING_4.alphas_cumprod_prev);
  const two = scheduleFor(exp.scheduler, 2);
  t.same(two.timesteps, [999, 499]);
  t.ok(close(two.alphaT[1]!, 0.333187819, 1e-6) && close(two.alphaPrev[0]!, 0.333187819, 1e-6), 'prev_t = t − 500');
  t.equal(two.alphaPrev[1], 0.999899983, 'the last step ends at final_alpha_cumprod');
  const forced = scheduleFor(exp.scheduler, 4, [751, 501, 251, 1]);
  t.ok(close(forced.alphaT[0]!, 0.0376980901, 1e-7) && close(forced.alphaPrev[3]!, 0.999899983, 0), 'forced leading timesteps');
});

t.test('one DDIM v-step returns x0 and the next latents in closed form (≤ 3e-7)', async (t) => {
  const rnd = gaussianNoise(5, 0, new Float32Array(2000));
  const x0 = rnd.subarray(0, 1000);
  const eps = rnd.subarray(1000);
  for (const [at, ap] of [[0.000733411987, 0.0386055075], [0.333187819, 0.821521223], [0.821521223, 0.999899983]] as const) {
    const z = new Float32Array(1000);
    const v = new Float32Array(1000);
    for (let i = 0; i < 1000; i++) {
      z[i] = Math.sqrt(at) * x0[i]! + Math.sqrt(1 - at) * eps[i]!;
      v[i] = Math.sqrt(at) * eps[i]! - Math.sqrt(1 - at) * x0[i]!;
    }
    const x0Out = new Float32Array(1000);
    ddimStep(z, v, stepCoefficients(at, ap), x0Out);
    let worstX0 = 0;
    let worstZ = 0;
    for (let i = 0; i < 1000; i++) {
      worstX0 = Math.max(worstX0, Math.abs(x0Out[i]! - x0[i]!));
      worstZ = Math.max(worstZ, Math.abs(z[i]! - (Math.sqrt(ap) * x0[i]! + Math.sqrt(1 - ap) * eps[i]!)));
    }
    t.ok(worstX0 <= 3e-7 * Math.max(1, Math.abs(x0[0]!)) * 4, `ᾱ ${at}: x0 error ${worstX0}`);
    t.ok(worstZ <= 3e-7 * 4, `ᾱ ${at}: z_prev error ${worstZ}`);
  }
});

t.test('four steps with v ≡ 0 scale z_T by the product of the per-step factors', async (t) => {
  const z = gaussianNoise(9, 0, new Float32Array(64));
  const zT = z.slice();
  let product = 1;
  for (let i = 0; i < 4; i++) {
    const at = TRAILING_4.alphas_cumprod_t[i]!;
    const ap = TRAILING_4.alphas_cumprod_prev[i]!;
    ddimStep(z, new Float32Array(64), stepCoefficients(at, ap));
    product *= Math.sqrt(at) * Math.sqrt(ap) + Math.sqrt(1 - at) * Math.sqrt(1 - ap);
  }
  for (let i = 0; i < 64; i++) t.ok(close(z[i]!, product * zT[i]!, 1e-6 * Math.max(1, Math.abs(zT[i]!))), `z[${i}]`);
});

t.test('quantisation rounds half to even like numpy, after the clamp', async (t) => {
  t.same([0.5, 1.5, 2.5, 254.5, 3.5, -0.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 254, 4, -0, 2, 3]);
  // Decoder outputs whose scaled value lands exactly on k + 0.5 (searched ulp by ulp): numpy gives the even level.
  const f = Math.fround;
  const bits = new Float32Array(1);
  const asInt = new Int32Array(bits.buffer);
  const tieFor = (k: number): number | undefined => {
    bits[0] = ((k + 0.5) / 255 - 0.5) * 2;
    const start = asInt[0]!;
    for (let d = -4096; d <= 4096; d++) {
      asInt[0] = start + d;
      const hr = bits[0]!;
      if (f(f(f(hr * 0.5) + 0.5) * 255) === k + 0.5) return hr;
    }
    return undefined;
  };
  const ties = Array.from({ length: 255 }, (_, k) => [k, tieFor(k)] as const).filter((x): x is readonly [number, number] => x[1] !== undefined);
  t.ok(ties.length >= 10, `${ties.length} levels have a decoder output on the tie`);
  const levels = quantiseToLevels(Float32Array.from(ties, ([, hr]) => hr));
  t.same(Array.from(levels), ties.map(([k]) => (k % 2 === 0 ? k : k + 1)), 'every tie k + 0.5 goes to the even level');
  t.same(Array.from(quantiseToLevels(Float32Array.of(-7, -1, 1, 5, 0))), [0, 0, 255, 255, 128]);
  const frame = quantiseToFrame(Float32Array.of(0, 1.3, -2));
  t.same(Array.from(frame, (v) => Math.round(v * 255)), [128, 255, 0]);
  t.ok(Array.from(frame).every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4), 'the emitted frame holds 8-bit levels (level/255 in float32)');
});

const IMAGE = Float32Array.from({ length: 15 }, (_, i) => i + 1);
const WARP_CASES: Array<[string, number, number, number[]]> = [
  ['zero flow', 0, 0, [0.25, 0.875, 1.5, 2.125, 1.25, 3, 6.75, 8, 9.25, 5, 2.75, 5.875, 6.5, 7.125, 3.75]],
  ['Δx = +1', 1, 0, [0.875, 1.5, 2.125, 1.25, 0, 6.75, 8, 9.25, 5, 0, 5.875, 6.5, 7.125, 3.75, 0]],
  ['Δy = −0.5', 0, -0.5, [0, 0, 0, 0, 0, 1.125, 3, 4.25, 5.5, 3.125, 4.875, 10.5, 11.75, 13, 6.875]],
];

function constantFlow(dx: number, dy: number, h: number, w: number): Float32Array {
  const flow = new Float32Array(2 * h * w);
  flow.fill(dx, 0, h * w);
  flow.fill(dy, h * w);
  return flow;
}

t.test('warp reference (TypeScript) reproduces the spec values', async (t) => {
  for (const [name, dx, dy, expected] of WARP_CASES) {
    const out = flowWarp(IMAGE, constantFlow(dx, dy, 3, 5), 1, 3, 5);
    t.ok(Array.from(out).every((v, i) => close(v, expected[i]!, 1e-6)), `${name}: ${Array.from(out).join(',')}`);
  }
  const far = flowWarp(IMAGE, constantFlow(40, 0, 3, 5), 1, 3, 5);
  t.ok(far.every((v) => v === 0), 'out-of-range samples are exactly 0');
  const W = 200;
  const H = 100;
  const ramp = Float32Array.from({ length: H * W }, (_, i) => (i % W) + 1000);
  const shifted = flowWarp(ramp, constantFlow(3, 0, H, W), 1, H, W);
  const mid = 50 * W + 100;
  t.ok(close(shifted[mid]! - ramp[mid]!, 3 + (100 + 3) / (W - 1) - 0.5, 1e-3), `interior moves by ≈ 3 px (${shifted[mid]! - ramp[mid]!})`);
});

t.test('warp as an ONNX GridSample graph gives the same values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-warp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'warp.onnx'), warpGraph(1));
  const session = await OnnxSession.create('warp', join(dir, 'warp.onnx'), { device: { device: 'cpu' }, threads: 1, log: memoryLogger() });
  const T = ort().Tensor;
  for (const [name, dx, dy, expected] of [...WARP_CASES, ['far away', 40, 0, new Array(15).fill(0)] as [string, number, number, number[]]]) {
    const out = await session.run({ prev_hr: new T('float32', IMAGE, [1, 1, 3, 5]), flow: new T('float32', constantFlow(dx, dy, 3, 5), [1, 2, 3, 5]) }, 'test');
    const got = Array.from(out.warped_prev_hr!.data as Float32Array);
    t.ok(got.every((v, i) => close(v, expected[i]!, 1e-5)), `${name}: ${got.join(',')}`);
  }
  await session.release();
});

t.test('bicubic ×4 reference (TypeScript) reproduces the spec values and keeps constants', async (t) => {
  const up = bicubicUpscale(Float32Array.of(0, 1, 1, -1), 1, 2, 2);
  const row0 = [-0.255936, -0.205298, 0.029068, 0.369256, 0.740607, 1.080795, 1.315161, 1.3658];
  const row3 = [0.369256, 0.366169, 0.351882, 0.331143, 0.308505, 0.287766, 0.273479, 0.270392];
  row0.forEach((v, i) => t.ok(close(up[i]!, v, 1e-6), `row 0 col ${i}: ${up[i]}`));
  row3.forEach((v, i) => t.ok(close(up[24 + i]!, v, 1e-6), `row 3 col ${i}: ${up[24 + i]}`));
  t.ok(close(Math.min(...up), -1.475663, 1e-6) && close(Math.max(...up), 1.3658, 1e-6), 'overshoot kept');
  t.ok(bicubicUpscale(new Float32Array(3 * 5 * 7).fill(-0.25), 3, 5, 7).every((v) => close(v, -0.25, 1e-6)), 'constant stays constant');
});

t.test("the interface flow graph's bicubic ×4 is torch's (conv form, Keys −0.75) on any size", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-flow-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'flow.onnx'), flowGraph(undefined));
  const session = await OnnxSession.create('flow', join(dir, 'flow.onnx'), { device: { device: 'cpu' }, threads: 1, log: memoryLogger() });
  const T = ort().Tensor;
  const [h, w] = [5, 7];
  const cur = gaussianNoise(1, 0, new Float32Array(3 * h * w));
  const prev = gaussianNoise(1, 1, new Float32Array(3 * h * w));
  const out = (await session.run({ cur_lr: new T('float32', cur, [1, 3, h, w]), prev_lr: new T('float32', prev, [1, 3, h, w]) }, 'test')).flow!;
  t.same(out.dims, [1, 2, 4 * h, 4 * w]);
  const diff = Float32Array.from({ length: 2 * h * w }, (_, i) => cur[i]! - prev[i]!);
  const expected = bicubicUpscale(diff, 2, h, w).map((v) => 4 * v);
  const got = out.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  t.ok(worst < 1e-5, `max difference ${worst}`);
  await session.release();
});

import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bicubicModel, cubicPhaseTaps } from '../src/models/bicubic.js';
import { GraphBuilder, encodeModel } from '../src/onnx/graph.js';
import { OnnxSession } from '../src/inference/session.js';
import { ort } from '../src/inference/ort.js';
import { memoryLogger } from '../src/core/log.js';
import { InferenceError } from '../src/core/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-onnx-'));
const settings = { device: { device: 'cpu' as const }, threads: 1, log: memoryLogger() };

async function session(name: string, bytes: Uint8Array): Promise<OnnxSession> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return OnnxSession.create(name, path, settings);
}

t.test('bicubic x4 graph reproduces the reference values (Keys a=-0.75, half-pixel, no clamp)', async (t) => {
  const s = await session('bicubic-075.onnx', bicubicModel(4, -0.75));
  const x = new Float32Array([0, 1, 1, -1, 0, 1, 1, -1, 0, 1, 1, -1]);
  const out = await s.run({ input: new (ort().Tensor)('float32', x, [1, 3, 2, 2]) }, 'test');
  const y = out.output!;
  t.same(y.dims, [1, 3, 8, 8]);
  const data = y.data as Float32Array;
  const row0 = [-0.255936, -0.205298, 0.029068, 0.369256, 0.740607, 1.080795, 1.315161, 1.3658];
  const row3 = [0.369256, 0.366169, 0.351882, 0.331143, 0.308505, 0.287766, 0.273479, 0.270392];
  row0.forEach((v, i) => t.ok(Math.abs(data[i]! - v) < 2e-6, `row 0 col ${i}: ${data[i]} ≈ ${v}`));
  row3.forEach((v, i) => t.ok(Math.abs(data[24 + i]! - v) < 2e-6, `row 3 col ${i}: ${data[24 + i]} ≈ ${v}`));
  const plane = Array.from(data.subarray(0, 64));
  t.ok(Math.abs(Math.min(...plane) + 1.475663) < 2e-6, 'min overshoot kept');
  t.ok(Math.abs(Math.max(...plane) - 1.3658) < 2e-6, 'max overshoot kept');
  await s.release();
});

t.test('bicubic keeps a constant image constant at x2 and x4, any size', async (t) => {
  for (const scale of [2, 4]) {
    const s = await session(`bicubic-x${scale}.onnx`, bicubicModel(scale));
    const x = new Float32Array(3 * 5 * 7).fill(0.375);
    const y = (await s.run({ input: new (ort().Tensor)('float32', x, [1, 3, 5, 7]) }, 'test')).output!;
    t.same(y.dims, [1, 3, 5 * scale, 7 * scale]);
    t.ok((y.data as Float32Array).every((v) => Math.abs(v - 0.375) < 1e-6), `x${scale} constant`);
    await s.release();
  }
  for (let p = 0; p < 4; p++) {
    const sum = cubicPhaseTaps(4, p, -0.6).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(sum - 1) < 1e-12, `phase ${p} taps sum to 1`);
  }
});

t.test('the session checks shapes before run and names model, tensor and stage', async (t) => {
  const g = new GraphBuilder('fixed');
  g.input('x', 'float32', [1, 3, 4, 4]);
  g.op('Identity', ['x'], {}, 'y');
  g.output('y', 'float32', [1, 3, 4, 4]);
  const s = await session('fixed.onnx', encodeModel(g));
  const T = ort().Tensor;
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
  const e1 = await err(s.run({ x: new T('float32', new Float32Array(3 * 16 * 4), [1, 3, 8, 8]) }, 'frame 7'));
  t.type(e1, InferenceError);
  t.match((e1 as Error).message, "model fixed.onnx (frame 7): input 'x' expects float32[1,3,4,4], got float32[1,3,8,8]");
  const e2 = await err(s.run({}, 'frame 8'));
  t.match((e2 as Error).message, /input 'x' \[1,3,4,4\] is missing/);
  const e3 = await err(s.run({ x: new T('float32', new Float32Array(48), [1, 3, 4, 4]), z: new T('float32', new Float32Array(1), [1]) }, 'frame 9'));
  t.match((e3 as Error).message, /the graph has no input 'z'/);
  await s.release();
});

t.test('attributes of every kind survive the writer (ints, floats, strings, float lists)', async (t) => {
  const g = new GraphBuilder('attrs');
  g.input('x', 'float32', ['n']);
  const clipped = g.op('Clip', ['x', g.constant('lo', 'float32', [], [-0.5]), g.constant('hi', 'float32', [], [0.5])]);
  const lr = g.op('LeakyRelu', [clipped], { alpha: 0.25 });
  g.op('Cast', [lr], { to: 1 }, 'y');
  g.output('y', 'float32', ['n']);
  const s = await session('attrs.onnx', encodeModel(g, { metadata: { purpose: 'test' } }));
  const y = (await s.run({ x: new (ort().Tensor)('float32', Float32Array.from([-2, -0.25, 0.1, 3]), [4]) }, 'test')).y!;
  t.same(Array.from(y.data as Float32Array), [-0.125, -0.0625, Math.fround(0.1), 0.5]);
  await s.release();
});

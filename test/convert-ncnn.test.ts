import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatToHalf, halfToFloat } from '../src/convert/float16.js';
import { parseNcnnModel, readNcnnModel } from '../src/convert/ncnn-model.js';
import { ncnnToOnnx } from '../src/convert/ncnn-to-onnx.js';
import { UsageError } from '../src/core/errors.js';
import { maxAbsDiff, runOnnx, testPatch, type Planar } from './helpers/compare.js';
import { ncnnReference } from './helpers/ncnn-reference.js';
import { random } from './helpers/tfjs-fixtures.js';
import { sharedData } from './helpers/media.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-ncnn-'));
const TOLERANCE = 1e-3; // on the 0..255 scale; these models work on 0..1

/** Writes a .param/.bin pair; `weights` lists, per weighted layer, its blobs and how each is stored. */
function writeNcnn(name: string, layerLines: string[], blobs: Array<{ values: number[]; storage: 'fp16' | 'fp32-tagged' | 'raw' }>): [string, string] {
  const param = ['7767517', `${layerLines.length} ${layerLines.length + 2}`, ...layerLines].join('\n') + '\n';
  const parts: Buffer[] = [];
  for (const b of blobs) {
    if (b.storage === 'fp16') {
      parts.push(Buffer.from([0x47, 0x6b, 0x30, 0x01]));
      const halves = Buffer.alloc(Math.ceil((b.values.length * 2) / 4) * 4);
      b.values.forEach((v, i) => halves.writeUInt16LE(floatToHalf(v), 2 * i));
      parts.push(halves);
    } else {
      if (b.storage === 'fp32-tagged') parts.push(Buffer.alloc(4));
      parts.push(Buffer.from(Float32Array.from(b.values).buffer));
    }
  }
  const paramPath = join(tmp, `${name}.param`);
  const binPath = join(tmp, `${name}.bin`);
  writeFileSync(paramPath, param);
  writeFileSync(binPath, Buffer.concat(parts));
  return [paramPath, binPath];
}

function values(n: number, seed: number, scale: number): number[] {
  const rnd = random(seed);
  return Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
}

function noise(c: number, h: number, w: number, seed: number): Planar {
  const rnd = random(seed);
  return { c, h, w, data: Float64Array.from({ length: c * h * w }, () => rnd()) };
}

async function checkAgainstReference(t: Tap.Test, name: string, param: string, bin: string, x: Planar): Promise<Planar> {
  const onnx = ncnnToOnnx(await readNcnnModel(param, bin), { graphName: name });
  const ours = await runOnnx(onnx, tmp, name, x);
  const err = maxAbsDiff(ours, ncnnReference(param, bin, x)) * 255;
  t.ok(err <= TOLERANCE, `${name}: max abs error ${err.toExponential(2)} (0..255 scale) ≤ ${TOLERANCE}, output ${ours.c}x${ours.h}x${ours.w}`);
  return ours;
}

t.test('float16 decoding', async (t) => {
  t.equal(halfToFloat(0x3c00), 1);
  t.equal(halfToFloat(0xc000), -2);
  t.equal(halfToFloat(0x0001), 2 ** -24, 'subnormal');
  t.equal(halfToFloat(0x7c00), Infinity);
  for (const v of [0.1, -3.25, 65504, 1e-4]) t.ok(Math.abs(halfToFloat(floatToHalf(v)) - v) <= Math.abs(v) * 1e-3, `${v} round-trips`);
});

t.test('every layer type against the reference: Input, Split, Convolution (fp16 and fp32 weights, bias, ReLU/leaky), PReLU, PixelShuffle (both modes), Interp nearest and bicubic, BinaryOp', async (t) => {
  const [param, bin] = writeNcnn(
    'all-layers',
    [
      'Input in 0 1 data 0=0 1=0 2=3',
      'Split sp 1 2 data a b',
      'Convolution c1 1 1 a c1 0=16 1=3 4=1 5=1 6=432 9=1',
      'PReLU p1 1 1 c1 p1 0=16',
      'PixelShuffle ps0 1 1 p1 ps0 0=2',
      'Convolution c2 1 1 ps0 c2 0=12 1=1 4=0 5=0 6=48 9=2 -23310=1,1.000000e-01',
      'PixelShuffle ps1 1 1 c2 ps1 0=2 1=1',
      'PReLU p2 1 1 ps1 p2 0=1',
      'Interp up 1 1 b up 0=1 1=4.000000e+00 2=4.000000e+00',
      'BinaryOp add 2 1 p2 up sum 0=0',
      'BinaryOp mul 1 1 sum half 0=2 1=1 2=5.000000e-01',
      'Interp down 1 1 half out 0=3 1=5.000000e-01 2=5.000000e-01',
    ],
    [
      { values: values(432, 1, 0.3), storage: 'fp16' },
      { values: values(16, 2, 0.1), storage: 'raw' },
      { values: values(16, 3, 0.5), storage: 'raw' },
      { values: values(48, 4, 0.5), storage: 'fp32-tagged' },
      { values: [0.2], storage: 'raw' },
    ],
  );
  const y = await checkAgainstReference(t, 'all-layers', param, bin, noise(3, 9, 11, 5));
  t.same([y.c, y.h, y.w], [3, 18, 22], 'x4 network then bicubic x0.5: x2 overall');
});

t.test('bicubic upscaling and the image border match ncnn', async (t) => {
  const [param, bin] = writeNcnn('bicubic-up', ['Input in 0 1 data', 'Interp up 1 1 data out 0=3 1=3.000000e+00 2=2.000000e+00'], []);
  const y = await checkAgainstReference(t, 'bicubic-up', param, bin, noise(3, 5, 6, 6));
  t.same([y.h, y.w], [15, 12]);
});

t.test('unknown layers and damaged files fail with a message naming the layer or the problem', async (t) => {
  const bad = (lines: string[], bin: Buffer) => () => parseNcnnModel(['7767517', `${lines.length} 9`, ...lines].join('\n'), bin, 'x.param');
  t.throws(bad(['Input in 0 1 data', 'Sigmoid sig 1 1 data out'], Buffer.alloc(0)), /layer sig \(Sigmoid\): layer type not supported \(supported: Input, Split, Convolution/);
  t.throws(bad(['Input in 0 1 data', 'Convolution c 1 1 data out 0=2 1=1 5=0 6=6'], Buffer.alloc(8)), /layer c: the \.bin file ends 20 bytes too early/);
  t.throws(bad(['Input in 0 1 data'], Buffer.alloc(4)), /4 bytes of the \.bin file are left over/);
  t.throws(() => parseNcnnModel('123\n1 1\nInput in 0 1 data\n', Buffer.alloc(0)), /not an ncnn text param file/);
  const interp = parseNcnnModel('7767517\n2 2\nInput in 0 1 data\nInterp i 1 1 data out 0=2 1=2.0 2=2.0\n', Buffer.alloc(0), 'bilinear.param');
  t.throws(() => ncnnToOnnx(interp, { graphName: 'x' }), /layer i \(Interp\): resize type 2 is not supported/);
  t.throws(() => ncnnToOnnx(interp, { graphName: 'x' }), UsageError);
});

const REAL = [
  ['RealESRGAN_General_x4_v3', 4],
  ['realesr-animevideov3-x4', 4],
  ['realesr-animevideov3-x2', 2],
] as const;

for (const [name, scale] of REAL) {
  t.test(`${name}: the converted graph matches the reference on a real patch`, async (t) => {
    const param = sharedData('models', 'realesrgan', `${name}.param`);
    const bin = sharedData('models', 'realesrgan', `${name}.bin`);
    if (!param || !bin) return t.skip('../shared/data/models is absent');
    const { patch } = testPatch(12, 9);
    const x: Planar = { ...patch, data: patch.data.map((v) => v / 255) };
    const y = await checkAgainstReference(t, name, param, bin, x);
    t.same([y.c, y.h, y.w], [3, 9 * scale, 12 * scale], `x${scale} output size`);
  });
}

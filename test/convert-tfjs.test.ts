import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPackageDir } from '../src/models/npm-package.js';
import { readTfjsModel } from '../src/convert/tfjs-model.js';
import { tfjsToOnnx } from '../src/convert/tfjs-to-onnx.js';
import { UsageError } from '../src/core/errors.js';
import { kerasReference } from './helpers/keras-reference.js';
import { maxAbsDiff, nhwcToPlanar, planarToNhwc, runOnnx, testPatch, type Planar } from './helpers/compare.js';
import { random, writeTfjsModel, type FixtureLayer, type FixtureStyle } from './helpers/tfjs-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-tfjs-'));
const TOLERANCE = 1e-3; // on the 0..255 scale

function noise(c: number, h: number, w: number, seed: number): Planar {
  const rnd = random(seed);
  return { c, h, w, data: Float64Array.from({ length: c * h * w }, () => rnd() * 255) };
}

async function checkAgainstReference(t: Tap.Test, name: string, modelJson: string, x: Planar, foldUpsampling = true): Promise<Planar> {
  const onnx = tfjsToOnnx(await readTfjsModel(modelJson), { graphName: name, foldUpsampling });
  const ours = await runOnnx(onnx, tmp, name, x);
  const ref = nhwcToPlanar(kerasReference(modelJson, planarToNhwc(x)));
  const err = maxAbsDiff(ours, ref);
  t.ok(err <= TOLERANCE, `${name}: max abs error ${err.toExponential(2)} ≤ ${TOLERANCE} (output ${ours.c}x${ours.h}x${ours.w})`);
  return ours;
}

/** The graph taking and giving 0..1 (scales folded in or as Mul nodes) against the 0..255 reference. */
async function checkUnitRange(t: Tap.Test, name: string, modelJson: string, x: Planar): Promise<string> {
  const onnx = tfjsToOnnx(await readTfjsModel(modelJson), { graphName: name, inputScale: 255, outputScale: 1 / 255 });
  const ours = await runOnnx(onnx, tmp, name, { ...x, data: x.data.map((v) => v / 255) });
  const ref = nhwcToPlanar(kerasReference(modelJson, planarToNhwc(x)));
  const err = maxAbsDiff({ ...ours, data: ours.data.map((v) => v * 255) }, ref);
  t.ok(err <= TOLERANCE, `${name} on 0..1: max abs error ${err.toExponential(2)} (0..255 scale) ≤ ${TOLERANCE}`);
  return new TextDecoder('latin1').decode(onnx);
}

const conv = (name: string, inputs: string[], kernel: [number, number, number, number], config: Record<string, unknown> = {}): FixtureLayer => ({ className: 'Conv2D', name, inputs, kernel, config });
const input = (c: number): FixtureLayer => ({ className: 'InputLayer', name: 'LR', config: { batch_input_shape: [null, null, null, c], dtype: 'float32' } });

t.test('Conv2D: same and valid padding, odd and even kernels, dilation, no bias, fused activations', async (t) => {
  const layers: FixtureLayer[] = [
    input(3),
    conv('c3x3_relu', ['LR'], [3, 3, 3, 8], { activation: 'relu' }),
    conv('c2x2_same', ['c3x3_relu'], [2, 2, 8, 6]),
    conv('c4x3_dilated', ['c2x2_same'], [4, 3, 6, 5], { dilation_rate: [2, 1], activation: 'tanh' }),
    conv('c1x1_nobias', ['c4x3_dilated'], [1, 1, 5, 4], { use_bias: false, activation: 'sigmoid' }),
    conv('c3x3_valid', ['c1x1_nobias'], [3, 3, 4, 3], { padding: 'valid' }),
  ];
  await checkAgainstReference(t, 'conv', writeTfjsModel(join(tmp, 'conv'), layers), noise(3, 9, 11, 1));
});

t.test('Activation (relu, sigmoid, tanh, linear), ReLU, Concatenate (axis 3 and -1), Add (2 and 3 inputs), UpSampling2D', async (t) => {
  const layers: FixtureLayer[] = [
    input(3),
    conv('a', ['LR'], [3, 3, 3, 4]),
    { className: 'Activation', name: 'a_relu', inputs: ['a'], config: { activation: 'relu' } },
    { className: 'Activation', name: 'a_sig', inputs: ['a'], config: { activation: 'sigmoid' } },
    { className: 'Activation', name: 'a_tanh', inputs: ['a'], config: { activation: 'tanh' } },
    { className: 'Activation', name: 'a_lin', inputs: ['a'], config: { activation: 'linear' } },
    { className: 'ReLU', name: 'a_relu_layer', inputs: ['a_lin'] },
    { className: 'Concatenate', name: 'cat3', inputs: ['a_relu', 'a_sig', 'a_tanh'], config: { axis: 3 } },
    { className: 'Concatenate', name: 'cat_last', inputs: ['cat3', 'a_relu_layer'], config: { axis: -1 } },
    conv('b', ['cat_last'], [1, 1, 16, 4]),
    { className: 'Add', name: 'add2', inputs: ['b', 'a'] },
    { className: 'Add', name: 'add3', inputs: ['add2', 'a_sig', 'a_lin'] },
    { className: 'UpSampling2D', name: 'up', inputs: ['add3'], config: { size: [2, 3], interpolation: 'nearest', data_format: 'channels_last' } },
    conv('out', ['up'], [3, 3, 4, 3]),
  ];
  const y = await checkAgainstReference(t, 'layers', writeTfjsModel(join(tmp, 'layers'), layers), noise(3, 5, 7, 2));
  t.same([y.c, y.h, y.w], [3, 10, 21], 'UpSampling2D [2,3] scales height by 2 and width by 3');
});

t.test('UpSampling2D folded into the convolution after it (sub-pixel form) matches the reference, as does the unfolded graph', async (t) => {
  for (const [k, dilation, s] of [[3, 1, 4], [2, 1, 2], [3, 2, 3], [5, 1, 4]] as const) {
    const layers: FixtureLayer[] = [
      input(3),
      conv('a', ['LR'], [3, 3, 3, 5], { activation: 'relu' }),
      { className: 'UpSampling2D', name: 'up', inputs: ['a'], config: { size: [s, s], interpolation: 'nearest' } },
      conv('b', ['up'], [k, k, 5, 3], { dilation_rate: [dilation, dilation], activation: 'relu' }),
    ];
    const path = writeTfjsModel(join(tmp, `fold-${k}-${dilation}-${s}`), layers, 'keras2', k * 10 + s);
    const x = noise(3, 5, 6, k + s);
    const folded = await checkAgainstReference(t, `folded k${k} d${dilation} x${s}`, path, x, true);
    const plain = await checkAgainstReference(t, `unfolded k${k} d${dilation} x${s}`, path, x, false);
    t.same([folded.h, folded.w], [5 * s, 6 * s]);
    t.ok(maxAbsDiff(folded, plain) <= TOLERANCE, 'folded and unfolded agree');
  }
  const model = await readTfjsModel(join(tmp, 'fold-3-1-4', 'model.json'));
  const ops = (fold: boolean) => new TextDecoder('latin1').decode(tfjsToOnnx(model, { graphName: 'ops', foldUpsampling: fold }));
  t.ok(ops(true).includes('DepthToSpace') && !ops(true).includes('Resize'), 'folded: DepthToSpace, no Resize');
  t.ok(ops(false).includes('Resize'), 'unfolded: Resize');
});

t.test('0..255 models converted to take and give 0..1: scales folded into the end convolutions, or Mul nodes', async (t) => {
  const folded = [input(3), conv('first', ['LR'], [3, 3, 3, 4], { activation: 'relu' }), conv('last', ['first'], [3, 3, 4, 3], { activation: 'relu' })];
  const text = await checkUnitRange(t, 'scale-folded', writeTfjsModel(join(tmp, 'scale-folded'), folded), noise(3, 6, 7, 11));
  t.notOk(text.includes('Mul'), 'no Mul node: the scales are in the weights');
  const unfoldable = [input(3), conv('c', ['LR'], [3, 3, 3, 3]), { className: 'Add', name: 'skip', inputs: ['c', 'LR'] }];
  const text2 = await checkUnitRange(t, 'scale-mul', writeTfjsModel(join(tmp, 'scale-mul'), unfoldable), noise(3, 6, 7, 12));
  t.ok(text2.includes('input_scale') && text2.includes('output_scale'), 'Mul nodes where the input feeds an Add and an Add ends the graph');
});

for (const style of ['sequential', 'keras3'] as FixtureStyle[]) {
  t.test(`${style} model files are read too`, async (t) => {
    const first: FixtureLayer = style === 'sequential' ? { ...conv('c1', [], [3, 3, 3, 4]), config: { batch_input_shape: [null, null, null, 3] } } : conv('c1', ['LR'], [3, 3, 3, 4]);
    const layers: FixtureLayer[] = [
      ...(style === 'sequential' ? [] : [input(3)]),
      first,
      { className: 'Activation', name: 'r', inputs: ['c1'], config: { activation: 'relu' } },
      { className: 'UpSampling2D', name: 'up', inputs: ['r'], config: { size: [2, 2] } },
      conv('c2', ['up'], [3, 3, 4, 3]),
    ];
    await checkAgainstReference(t, style, writeTfjsModel(join(tmp, style), layers, style), noise(3, 6, 5, 3));
  });
}

t.test('an unknown layer fails naming the layer and its type; unsupported settings are named too', async (t) => {
  const cases: Array<[FixtureLayer, RegExp]> = [
    [{ className: 'PixelShuffle4x', name: 'ps', inputs: ['c'] }, /layer 'ps' \(PixelShuffle4x\): layer type not supported \(supported: InputLayer, Conv2D/],
    [{ className: 'Lambda', name: 'lam', inputs: ['c'] }, /layer 'lam' \(Lambda\): layer type not supported/],
    [conv('strided', ['c'], [3, 3, 4, 3], { strides: [2, 2] }), /layer 'strided' \(Conv2D\): strides \[2,2\] are not supported/],
    [{ className: 'Activation', name: 'gelu', inputs: ['c'], config: { activation: 'gelu' } }, /layer 'gelu' \(Activation\): activation 'gelu' is not supported/],
    [{ className: 'UpSampling2D', name: 'bil', inputs: ['c'], config: { size: [2, 2], interpolation: 'bilinear' } }, /layer 'bil' \(UpSampling2D\): interpolation 'bilinear'/],
  ];
  for (const [bad, pattern] of cases) {
    const path = writeTfjsModel(join(tmp, `bad-${bad.name}`), [input(3), conv('c', ['LR'], [3, 3, 3, 4]), bad]);
    const model = await readTfjsModel(path);
    t.throws(() => tfjsToOnnx(model, { graphName: 'bad' }), pattern);
    t.throws(() => tfjsToOnnx(model, { graphName: 'bad' }), UsageError);
  }
});

const packageDir = (name: string) => findPackageDir(name) ?? '';

for (const pkg of ['@upscalerjs/esrgan-slim', '@upscalerjs/esrgan-medium']) {
  for (const scale of [2, 4]) {
    t.test(`${pkg} x${scale}: the converted graph matches the reference on a real patch`, async (t) => {
      const modelJson = join(packageDir(pkg), 'models', `x${scale}`, 'model.json');
      const { patch, real } = testPatch(13, 10);
      if (!real) t.comment('../shared/data is absent: using a noise patch');
      const y = await checkAgainstReference(t, `${pkg.split('/')[1]}-x${scale}`, modelJson, patch);
      t.same([y.c, y.h, y.w], [3, 10 * scale, 13 * scale], `x${scale} output size`);
      await checkUnitRange(t, `${pkg.split('/')[1]}-x${scale}-unit`, modelJson, patch);
    });
  }
}

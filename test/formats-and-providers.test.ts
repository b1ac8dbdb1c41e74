import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseOutputFormat } from '../src/av/pixel-formats.js';
import { outputColor, withAssumedColor } from '../src/av/color.js';
import { planProviders, providerOrder } from '../src/inference/providers.js';
import { UsageError } from '../src/core/errors.js';

const X264 = ['yuv420p', 'yuvj420p', 'yuv422p', 'yuvj422p', 'yuv444p', 'yuvj444p', 'nv12', 'nv16', 'nv21', 'yuv420p10le', 'yuv422p10le', 'yuv444p10le', 'nv20le', 'gray', 'gray10le'];

t.test('output pixel format: the input one, else the nearest the encoder takes', async (t) => {
  t.equal(chooseOutputFormat('yuv420p10le', X264), 'yuv420p10le');
  t.equal(chooseOutputFormat('rgb24', X264), 'yuv444p', 'RGB keeps full chroma');
  t.equal(chooseOutputFormat('bgr0', X264), 'yuv444p');
  t.equal(chooseOutputFormat('yuv420p12le', X264), 'yuv420p10le', 'the deepest it takes');
  t.equal(chooseOutputFormat('yuvj420p', X264), 'yuv420p', 'yuvj aliases become tagged yuv');
  t.equal(chooseOutputFormat('gbrp10le', X264), 'yuv444p10le');
  t.equal(chooseOutputFormat('yuv420p', null), 'yuv420p', 'any format accepted');
  t.equal(chooseOutputFormat('yuv420p', X264, 'yuv444p'), 'yuv444p', '--pix-fmt wins');
  t.throws(() => chooseOutputFormat('yuv420p', X264, 'rgb24'), UsageError);
  t.throws(() => chooseOutputFormat('yuv420p', X264, 'not-a-format'), /--pix-fmt not-a-format: not a pixel format FFmpeg knows/);
});

t.test('output colour: kept from YUV input, explicit for RGB input', async (t) => {
  const bt709 = { matrix: 'bt709', range: 'tv', primaries: 'bt709', transfer: 'bt709' };
  t.same(outputColor('yuv420p', bt709, 'yuv420p', 480), bt709);
  const full601 = { matrix: 'smpte170m', range: 'pc', primaries: 'smpte170m', transfer: 'smpte170m' };
  t.same(outputColor('yuv420p', full601, 'yuv420p', 2160), full601);
  const rgb = { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' };
  t.same(outputColor('rgb24', rgb, 'yuv444p', 720), { matrix: 'bt709', range: 'tv', primaries: 'bt709', transfer: 'bt709' }, 'HD output: BT.709');
  t.same(outputColor('rgb24', rgb, 'yuv444p', 480), { matrix: 'smpte170m', range: 'tv', primaries: 'smpte170m', transfer: 'smpte170m' }, 'SD output: BT.601');
  t.equal(outputColor('rgb24', rgb, 'bgr0', 480).matrix, 'gbr');
});

t.test('untagged YUV is taken as players take it: BT.601 below 720 lines, BT.709 from 720, limited range (yuvj: full)', async (t) => {
  const unknown = { matrix: 'unknown', range: 'unknown', primaries: 'unknown', transfer: 'unknown' };
  t.same(withAssumedColor('yuv420p', unknown, 180), { matrix: 'smpte170m', range: 'tv', primaries: 'smpte170m', transfer: 'smpte170m' });
  t.same(withAssumedColor('yuv420p', unknown, 720), { matrix: 'bt709', range: 'tv', primaries: 'bt709', transfer: 'bt709' });
  t.same(withAssumedColor('yuvj420p', unknown, 480).range, 'pc');
  t.same(withAssumedColor('yuv420p', { ...unknown, matrix: 'bt709', range: 'pc' }, 480), { matrix: 'bt709', range: 'pc', primaries: 'bt709', transfer: 'bt709' }, 'what is stated is kept; what a stated matrix leaves out is its standard\'s, whatever the size');
  t.same(withAssumedColor('yuv420p', { ...unknown, matrix: 'bt470bg' }, 576), { matrix: 'bt470bg', range: 'tv', primaries: 'bt470bg', transfer: 'smpte170m' }, 'BT.601 625 lines');
  t.same(withAssumedColor('yuv420p', { ...unknown, matrix: 'bt709', primaries: 'bt2020' }, 1080).primaries, 'bt2020', 'stated primaries kept');
  const rgb = { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' };
  t.same(withAssumedColor('rgb24', rgb, 720), rgb, 'RGB: unchanged (its output tags follow the output size)');
});

t.test('devices map to ordered provider lists that end with CPU', async (t) => {
  t.same(providerOrder('cpu'), ['cpu']);
  t.same(providerOrder('cuda'), ['cuda', 'cpu']);
  t.same(providerOrder('tensorrt'), ['tensorrt', 'cuda', 'cpu']);
});

t.test('a missing provider falls back with a warning that names it', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'ort-libs-'));
  const plan = planProviders('tensorrt', empty);
  t.same(plan.providers, ['cpu']);
  t.equal(plan.warnings.length, 2);
  t.match(plan.warnings[0], /tensorrt execution provider is not installed \(libonnxruntime_providers_tensorrt\.so missing/);
  t.match(plan.warnings[1], /cuda execution provider is not installed .*falling back to cpu/);
  writeFileSync(join(empty, 'libonnxruntime_providers_cuda.so'), '');
  const withCuda = planProviders('tensorrt', empty);
  t.same(withCuda.providers, ['cuda', 'cpu']);
  t.match(withCuda.warnings[0], /tensorrt .*falling back to cuda/);
});

import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, readManifest, variantFor } from '../src/models/manifest.js';
import { loadModel, precisionFor } from '../src/models/load.js';
import { cpuFeaturesFrom } from '../src/inference/cpu-features.js';
import { memoryLogger, silentLogger } from '../src/core/log.js';
import { findModel, searchPath } from '../src/models/registry.js';

const good = {
  format: 'stream-sr-model/1',
  id: 'm',
  kind: 'frame-graph',
  variants: [{ scale: 4, file: 'm.onnx' }],
  inputs: { frame: 'input' },
  output: 'output',
  layout: 'NCHW',
  range: [0, 1],
  history: false,
};

t.test('a valid manifest resolves files next to it', async (t) => {
  const m = parseManifest(good, '/models/m/model.json');
  t.equal(m.variants[0]?.file, '/models/m/m.onnx');
  t.equal(m.dir, '/models/m');
});

t.test('every bad field is named', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, format: undefined }, /missing field 'format'/],
    [{ ...good, variants: [] }, /field 'variants' must be a non-empty list/],
    [{ ...good, variants: [{ scale: 3.5, file: 'x' }] }, /variants\[0\]: field 'scale' must be an integer scale factor/],
    [{ ...good, variants: [{ scale: 4 }] }, /variants\[0\]: missing field 'file'/],
    [{ ...good, inputs: {} }, /inputs: missing field 'frame'/],
    [{ ...good, layout: 'CHW' }, /field 'layout' must be 'NCHW' or 'NHWC'/],
    [{ ...good, range: [1, 0] }, /field 'range' must be \[low, high\]/],
    [{ ...good, history: 'yes' }, /field 'history' must be true or false/],
    [{ ...good, history: true }, /'history' is true but 'inputs' names neither/],
    [{ ...good, output: undefined }, /missing field 'output'/],
    [{ ...good, variants: [{ scale: 4, file: 'x', precision: 'int4' }] }, /variants\[0\]: field 'precision' must be 'fp32' or 'int8'/],
    [{ ...good, kind: 'video' }, /field 'kind' must be 'frame-graph', got "video"/],
    [{ ...good, kind: 'stream-diffvsr' }, /x\/model\.json: kind 'stream-diffvsr' is not a model\.json kind; a Stream-DiffVSR export is a folder with its own manifest\.json/],
    [{ ...good, kind: 'toString' }, /field 'kind' must be 'frame-graph'/],
  ];
  for (const [json, pattern] of cases) t.throws(() => parseManifest(json, 'x/model.json'), pattern);
});

t.test("kind 'image', as manifests written before 'frame-graph' call it, reads as 'frame-graph'", async (t) => {
  t.equal(parseManifest({ ...good, kind: 'image' }, '/m/model.json').kind, 'frame-graph');
});

t.test('precision: the first variant listed for a scale is the default; auto picks fp32 on GPUs', async (t) => {
  const m = parseManifest({ ...good, variants: [{ scale: 4, file: 'q.onnx', precision: 'int8' }, { scale: 4, file: 'f.onnx' }, { scale: 2, file: 'x2.onnx' }] }, '/m/model.json');
  t.equal(variantFor(m, 4).file, '/m/q.onnx', 'default: listed first');
  t.equal(variantFor(m, 4, 'fp32').file, '/m/f.onnx');
  t.equal(variantFor(m, 2).precision, 'fp32', 'no precision field: fp32');
  t.throws(() => variantFor(m, 2, 'int8'), /model m has no int8 x2 variant \(it has fp32\)/);
  t.throws(() => variantFor(m, 3), /model m has no x3 variant \(it has x4, x2\)/);
  const session = (device: 'cpu' | 'cuda') => ({ device: { device }, log: silentLogger }) as never;
  const none = { int8DotProduct: false };
  t.equal(precisionFor(m, { scale: 4, session: session('cpu') }, none), undefined, 'auto on the CPU: the default (int8 here)');
  t.equal(precisionFor(m, { scale: 4, session: session('cuda') }, none, 'cuda'), 'fp32', 'auto on a GPU: fp32');
  t.equal(precisionFor(m, { scale: 4, precision: 'int8', session: session('cuda') }, none, 'cuda'), 'int8', 'asked for: kept');
});

t.test("autoOn 'int8-dot-product': auto picks that int8 graph on CPUs with 8-bit dot products only", async (t) => {
  const m = parseManifest({ ...good, variants: [
    { scale: 4, file: 'f.onnx', precision: 'fp32' }, { scale: 4, file: 'q.onnx', precision: 'int8', autoOn: 'int8-dot-product' },
    { scale: 2, file: 'f2.onnx', precision: 'fp32' }, { scale: 2, file: 'q2.onnx', precision: 'int8' },
  ] }, '/m/model.json');
  const log = memoryLogger();
  const cpu = { device: { device: 'cpu' }, log } as never;
  const vnni = { int8DotProduct: true, int8DotProductFlag: 'avx512_vnni' };
  const said = () => log.lines.splice(0).join('\n');
  t.equal(precisionFor(m, { scale: 4, session: cpu }, vnni), 'int8', 'x4 with VNNI: int8');
  t.equal(said(), 'verbose: m x4: int8 weights (--precision auto), as this CPU has 8-bit dot products (avx512_vnni)', 'and -v says why');
  t.equal(precisionFor(m, { scale: 4, session: cpu }, { int8DotProduct: false }), undefined, 'x4 without: the first listed (fp32)');
  t.equal(said(), 'verbose: m x4: fp32 weights (--precision auto), as this CPU has no 8-bit dot products for its int8 weights', 'and -v says why not');
  t.equal(precisionFor(m, { scale: 2, session: cpu }, vnni), undefined, 'x2, whose int8 has no autoOn: fp32 even with VNNI');
  t.equal(said(), "verbose: m x2: fp32 weights (--precision auto), the model's default");
  t.equal(precisionFor(m, { scale: 4, precision: 'fp32', session: cpu }, vnni), 'fp32', '--precision fp32 wins');
  t.equal(said(), '', 'asked for: nothing to explain');
  const cuda = { device: { device: 'cuda' }, log } as never;
  t.equal(precisionFor(m, { scale: 4, session: cuda }, vnni, 'cuda'), 'fp32', 'GPUs: fp32');
  t.equal(said(), 'verbose: m x4: fp32 weights (--precision auto), as cuda runs float graphs');
  t.equal(precisionFor(m, { scale: 4, session: cuda }, vnni, 'cpu'), 'int8', '--device cuda without its provider runs on the CPU: the CPU\'s choice');
  t.match(said(), /int8 weights \(--precision auto\), as this CPU has 8-bit dot products \(avx512_vnni\) \(--device cuda fell back to the CPU\)$/);
  const single = parseManifest({ ...good }, '/m/model.json');
  t.equal(precisionFor(single, { scale: 4, session: cpu }, vnni), undefined);
  t.equal(said(), '', 'one precision: nothing to explain');
  t.throws(() => parseManifest({ ...good, variants: [{ scale: 4, file: 'q.onnx', autoOn: 'avx2' }] }, 'x/model.json'), /variants\[0\]: field 'autoOn' must be 'int8-dot-product', got "avx2"/);
});

t.test('bicubic, which runs in swscale, refuses a precision it does not ship as other models do', async (t) => {
  const session = { device: { device: 'cpu' as const }, threads: 1, log: silentLogger };
  await t.rejects(loadModel('bicubic', { scale: 4, precision: 'int8', session }), /model bicubic has no int8 x4 variant \(it has fp32\)/);
  const fp32 = await loadModel('bicubic', { scale: 4, precision: 'fp32', session });
  t.equal(fp32.id, 'bicubic', 'fp32, which it ships: loads');
  await fp32.dispose();
});

t.test('8-bit dot products, read from /proc/cpuinfo as Linux writes it', async (t) => {
  const x86 = (flags: string) => `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme ${flags} sse4_2\nbugs\t\t: sysret_ss_attrs\n`;
  t.same(cpuFeaturesFrom(x86('avx2 avx512f avx512_vnni')), { int8DotProduct: true, int8DotProductFlag: 'avx512_vnni' }, 'AVX-512 VNNI');
  t.same(cpuFeaturesFrom(x86('avx2 avx_vnni')), { int8DotProduct: true, int8DotProductFlag: 'avx_vnni' }, 'AVX-VNNI (Alder Lake and later)');
  t.same(cpuFeaturesFrom(x86('avx2 fma avx512_vnnix')), { int8DotProduct: false }, 'AVX2 alone (a longer flag does not count)');
  t.same(cpuFeaturesFrom('processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 asimddp\n'), { int8DotProduct: true, int8DotProductFlag: 'asimddp' }, 'Arm dotprod');
  t.same(cpuFeaturesFrom('processor\t: 0\nFeatures\t: fp asimd crc32\n'), { int8DotProduct: false }, 'Arm without it');
  t.same(cpuFeaturesFrom(''), { int8DotProduct: false }, 'nothing readable: none');
});

t.test('unreadable or non-JSON manifests fail with the path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  writeFileSync(join(dir, 'model.json'), '{ nope');
  await t.rejects(readManifest(join(dir, 'model.json')), /model manifest .*model\.json: not valid JSON/);
  await t.rejects(readManifest(join(dir, 'absent.json')), /cannot read it/);
});

t.test('lookup: --model-dir first, then STREAM_SR_MODEL_PATH, then models/; a missing file is named', async (t) => {
  const a = mkdtempSync(join(tmpdir(), 'models-a-'));
  const b = mkdtempSync(join(tmpdir(), 'models-b-'));
  for (const [dir, tag] of [[a, 'a'], [b, 'b']] as const) {
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify({ ...good, description: tag }));
    writeFileSync(join(dir, 'm', 'm.onnx'), '');
  }
  t.equal((await findModel('m', [a], { STREAM_SR_MODEL_PATH: b })).description, 'a');
  t.equal((await findModel('m', [], { STREAM_SR_MODEL_PATH: b })).description, 'b');
  t.equal((await findModel(join(b, 'm', 'model.json'))).description, 'b', 'a path to model.json works');
  t.same(searchPath([a], { STREAM_SR_MODEL_PATH: b }).slice(0, 2), [a, b]);
  mkdirSync(join(a, 'broken'));
  writeFileSync(join(a, 'broken', 'model.json'), JSON.stringify({ ...good, id: 'broken' }));
  await t.rejects(findModel('broken', [a], {}), /model broken: variant x4 file .*m\.onnx is missing/);
  await t.rejects(findModel('nothing', [a], {}), /unknown model 'nothing' \(available: .*broken.*m/);
});

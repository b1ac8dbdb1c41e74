import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, encodeModel, type ElemType } from '../src/onnx/graph.js';
import { formatRows, modelRows } from '../src/models/listing.js';
import { ROOT, clips, probeVideoFrames } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-registry-'));

interface GraphSpec {
  input?: string;
  output?: string;
  layout?: 'NCHW' | 'NHWC';
  type?: ElemType;
  extraInput?: string;
}

/** A nearest-neighbour x`scale` graph: a real, tiny model a user could have made. */
function tinyModel(scale: number, spec: GraphSpec = {}): Uint8Array {
  const g = new GraphBuilder('tiny');
  const layout = spec.layout ?? 'NCHW';
  const input = spec.input ?? 'x';
  g.input(input, spec.type ?? 'float32', layout === 'NCHW' ? [1, 3, 'h', 'w'] : [1, 'h', 'w', 3]);
  let x = input;
  if (spec.type && spec.type !== 'float32') x = g.op('Cast', [x], { to: 1 });
  if (spec.extraInput) {
    g.input(spec.extraInput, 'float32', [1]);
    x = g.op('Add', [x, spec.extraInput]);
  }
  const scales = g.constant('scales', 'float32', [4], layout === 'NCHW' ? [1, 1, scale, scale] : [1, scale, scale, 1]);
  g.op('Resize', [x, '', scales], { mode: 'nearest' }, spec.output ?? 'y');
  g.output(spec.output ?? 'y', 'float32', layout === 'NCHW' ? [1, 3, 'H', 'W'] : [1, 'H', 'W', 3]);
  return encodeModel(g);
}

function writeModel(dir: string, id: string, manifest: Record<string, unknown>, files: Record<string, Uint8Array>): string {
  mkdirSync(join(dir, id), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, id, name), bytes);
  const json = { format: 'stream-sr-model/1', id, kind: 'frame-graph', variants: [{ scale: 2, file: 'm.onnx' }], inputs: { frame: 'x' }, output: 'y', layout: 'NCHW', range: [0, 1], history: false, ...manifest };
  writeFileSync(join(dir, id, 'model.json'), JSON.stringify(json));
  return join(dir, id, 'model.json');
}

const a = join(tmp, 'a');
const b = join(tmp, 'b');
const empty = join(tmp, 'empty');
mkdirSync(empty);
writeModel(a, 'dup', { description: 'in a' }, { 'm.onnx': tinyModel(2) });
writeModel(b, 'dup', { description: 'in b', variants: [{ scale: 4, file: 'm.onnx' }] }, { 'm.onnx': tinyModel(4) });
writeModel(b, 'mine', {}, { 'm.onnx': tinyModel(2) });
writeModel(b, 'broken', { output: undefined }, {});
mkdirSync(join(b, '.mine.staging-1-abc'));
writeFileSync(join(b, '.mine.staging-1-abc', 'model.json'), '{}');

t.test('listing: installed models with size, status and location; known ones with what installs them', async (t) => {
  const rows = await modelRows([a], { STREAM_SR_MODEL_PATH: b }, empty);
  const byId = new Map(rows.map((r) => [r.id, r]));
  t.same(rows.map((r) => r.id), ['broken', 'dup', 'mine', 'bicubic', 'esrgan-slim', 'esrgan-medium', 'realesr-general-x4v3', 'realesr-animevideov3', 'stream-diffvsr'], 'installed first, staging folders ignored, then the known ones');
  t.match(byId.get('dup'), { scales: 'x2', history: 'no', status: 'ready', location: join(a, 'dup') }, '--model-dir wins over STREAM_SR_MODEL_PATH');
  t.match(byId.get('mine')!.size, /^\d+\.\d kB$/);
  t.match(byId.get('broken')!.status, /^unusable: model manifest .*broken\/model\.json: missing field 'output'/);
  t.match(byId.get('esrgan-slim'), { scales: 'x2,x4', status: 'not converted: run `make models` (or `stream-sr models build`)', location: '-' });
  t.match(byId.get('realesr-general-x4v3'), { scales: 'x4', size: '2.4 MB download', status: 'not pulled: run `stream-sr models pull realesr-general-x4v3`' });
  t.match(byId.get('realesr-animevideov3'), { scales: 'x2,x4', size: '2.5 MB download' });
  t.match(byId.get('bicubic')!.status, /not built/);
  t.match(formatRows(rows), /^id +scales +size +history +status +location\n/);
});

t.test('listing: where a scale ships several precisions, * marks what --precision auto runs on this CPU', async (t) => {
  const dir = join(tmp, 'precisions');
  writeModel(dir, 'two', { variants: [
    { scale: 2, file: 'm.onnx' }, { scale: 2, file: 'm.onnx', precision: 'int8' },
    { scale: 4, file: 'm.onnx', precision: 'fp32' }, { scale: 4, file: 'm.onnx', precision: 'int8', autoOn: 'int8-dot-product' },
  ] }, { 'm.onnx': tinyModel(2) });
  const row = async (int8DotProduct: boolean) => (await modelRows([dir], {}, empty, { int8DotProduct })).find((r) => r.id === 'two')!;
  t.equal((await row(true)).scales, 'x2*,x2 int8,x4,x4 int8*', 'with 8-bit dot products: the x4 int8 (autoOn), the x2 listed first');
  t.equal((await row(false)).scales, 'x2*,x2 int8,x4*,x4 int8', 'without: the first listed of each scale');
  t.match(formatRows([await row(true)]), /\n\* the weights --precision auto \(the default\) runs on this CPU\n$/, 'and a line says what * means');
  t.notMatch(formatRows([{ id: 'one', scales: 'x2,x4', size: '-', history: 'no', status: 'ready', location: '-' }]), /\*/, 'no mark, no line, where no scale has a choice');
});

t.test('`stream-sr models` lists the package models as converted, and models from --model-dir and STREAM_SR_MODEL_PATH', async (t) => {
  const built = join(tmp, 'built');
  const r0 = runCli(['models', 'build', 'bicubic', 'esrgan-slim', '--out', built]);
  t.equal(r0.code, 0, r0.stderr);
  t.match(r0.stderr, /built .*built\/bicubic\n.*built .*built\/esrgan-slim/);
  const r = runCli(['models', '--model-dir', built], { env: { STREAM_SR_MODEL_PATH: b } });
  t.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString();
  t.match(out, new RegExp(`esrgan-slim +x2,x4 +1\\.[89] MB +no +converted +${built}/esrgan-slim`));
  t.match(out, new RegExp(`bicubic +x2,x4 +\\d\\.\\d kB +no +generated +${built}/bicubic`));
  t.match(out, new RegExp(`mine +x2 .* ready +${b}/mine`));
  const one = runCli(['models', 'list', 'mine', '--model-dir', built], { env: { STREAM_SR_MODEL_PATH: b } });
  t.same(one.stdout.toString().trim().split('\n').slice(1).map((l) => l.split(/ +/)[0]), ['mine'], '`models list ID` lists that model only');
  const none = runCli(['models', 'list', 'nope']);
  t.equal(none.code, 2);
  t.match(none.stderr, /^stream-sr: models list: no model 'nope' \(known: .*bicubic.*\)\n$/);
  const bad = runCli(['models', 'build', 'realesr-general-x4v3', '--out', built]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /'realesr-general-x4v3' is not built here .*fetched with `stream-sr models pull realesr-general-x4v3`/);
});

t.test('lookup: --model-dir, then STREAM_SR_MODEL_PATH, then models/; or a path to model.json', async (t) => {
  const out = (name: string) => join(tmp, name);
  const env = { STREAM_SR_MODEL_PATH: b };
  const first = runCli(['-i', clips.small(), '-o', out('dup-a.mkv'), '--model', 'dup', '--model-dir', a, '--scale', '4', '-q'], { env });
  t.equal(first.code, 2, 'the x2-only copy in --model-dir is the one found');
  t.match(first.stderr, /model dup has no x4 variant \(it has x2\)/);
  const fromEnv = runCli(['-i', clips.small(), '-o', out('dup-b.mkv'), '--model', 'dup', '--scale', '4', '-c:v', 'ffv1', '-q'], { env });
  t.equal(fromEnv.code, 0, fromEnv.stderr);
  t.same([probeVideoFrames(out('dup-b.mkv'))[0]?.width], [256], 'STREAM_SR_MODEL_PATH copy (x4) used without --model-dir');
  const byPath = runCli(['-i', clips.small(), '-o', out('by-path.mkv'), '--model', join(a, 'dup', 'model.json'), '--scale', '2', '-c:v', 'ffv1', '-q']);
  t.equal(byPath.code, 0, byPath.stderr);
  t.same([probeVideoFrames(out('by-path.mkv'))[0]?.width], [128], '--model path/to/model.json');
  if (existsSync(join(ROOT, 'models', 'realesr-animevideov3'))) return t.comment('realesr-animevideov3 is installed in models/ on this machine: "known but not installed" is not checked');
  const known = runCli(['-i', clips.small(), '-o', out('k.mkv'), '--model', 'realesr-animevideov3', '--model-dir', empty], { env: { STREAM_SR_MODEL_PATH: '' } });
  t.equal(known.code, 2);
  t.match(known.stderr, /model 'realesr-animevideov3' is known but not installed here: run `stream-sr models pull realesr-animevideov3`/);
});

t.test('a bad manifest fails before any frame, naming the field, the file or the tensor', async (t) => {
  const bad = join(tmp, 'bad');
  const cases: Array<[string, Record<string, unknown>, Record<string, Uint8Array>, RegExp]> = [
    ['no-range', { range: undefined }, { 'm.onnx': tinyModel(2) }, /model manifest .*no-range\/model\.json: missing field 'range'/],
    ['no-variants-file', { variants: [{ scale: 2 }] }, { 'm.onnx': tinyModel(2) }, /variants\[0\]: missing field 'file'/],
    ['missing-onnx', {}, {}, /model missing-onnx: variant x2 file .*missing-onnx\/m\.onnx is missing/],
    ['wrong-input', { inputs: { frame: 'frame_in' } }, { 'm.onnx': tinyModel(2) }, /manifest input 'frame_in' is not an input of .*m\.onnx \(graph inputs: x\)/],
    ['extra-input', {}, { 'm.onnx': tinyModel(2, { extraInput: 'noise' }) }, /graph input 'noise' of .*m\.onnx is not named in the manifest's 'inputs'/],
    ['wrong-output', { output: 'out' }, { 'm.onnx': tinyModel(2) }, /manifest output 'out' is not an output of .*m\.onnx \(graph outputs: y\)/],
    ['wrong-layout', { layout: 'NHWC' }, { 'm.onnx': tinyModel(2) }, /graph input 'x' of .*m\.onnx has shape \[1,3,h,w\], but the manifest's 'layout' NHWC needs \[1,height,width,3\]/],
    ['uint8-input', {}, { 'm.onnx': tinyModel(2, { type: 'uint8' }) }, /graph input 'x' of .*m\.onnx is uint8; stream-sr feeds and reads float32 frames/],
  ];
  for (const [id, manifest, files, pattern] of cases) {
    const path = writeModel(bad, id, manifest, files);
    const r = runCli(['-i', clips.small(), '-o', join(tmp, `${id}.mkv`), '--model', path, '--scale', '2']);
    t.equal(r.code, 2, `${id}: exit 2`);
    t.match(r.stderr, pattern, id);
    t.equal(r.stderr.trim().split('\n').length, 1, `${id}: one line`);
  }
  const nhwc = writeModel(bad, 'nhwc-ok', { layout: 'NHWC' }, { 'm.onnx': tinyModel(2, { layout: 'NHWC' }) });
  const ok = runCli(['-i', clips.small(), '-o', join(tmp, 'nhwc.mkv'), '--model', nhwc, '--scale', '2', '-q']);
  t.equal(ok.code, 0, `an NHWC model declared as NHWC runs: ${ok.stderr}`);
});

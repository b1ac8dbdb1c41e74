import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { clips, decodeRgb, ffmpeg, probeVideoFrames } from './helpers/media.js';
import { interfaceExport, removeExports } from './helpers/diffvsr.js';

const EXPORT = await interfaceExport();
t.teardown(removeExports);
const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-diffvsr-cli-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const out = (name: string) => join(tmp, name);
const base = (o: string) => ['-i', clips.small(), '-o', o, '-c:v', 'ffv1', '-q', '--threads', '1'];

t.test('stream-sr --model stream-diffvsr --model-dir EXPORT upscales x4, frame for frame, reproducibly', async (t) => {
  const a = runCli([...base(out('a.mkv')), '--model', 'stream-diffvsr', '--model-dir', EXPORT]);
  t.equal(a.code, 0, a.stderr);
  const frames = probeVideoFrames(out('a.mkv'));
  const input = probeVideoFrames(clips.small());
  t.equal(frames.length, input.length, 'frames in = frames out');
  t.same([frames[0]!.width, frames[0]!.height], [256, 192]);
  t.same(frames.map((f) => f.pts), input.map((f) => f.pts), 'timestamps copied');
  const b = runCli([...base(out('b.mkv')), '--model', EXPORT]);
  t.equal(b.code, 0, b.stderr);
  const ra = decodeRgb(out('a.mkv')).frames;
  const rb = decodeRgb(out('b.mkv')).frames;
  t.ok(ra.every((f, i) => f.equals(rb[i]!)), 'the export path as --model gives byte-identical frames (same default seed)');
  const c = runCli([...base(out('c.mkv')), '--model', EXPORT, '--seed', '5']);
  t.equal(c.code, 0, c.stderr);
  t.notOk(decodeRgb(out('c.mkv')).frames[0]!.equals(ra[0]!), 'another --seed gives other frames');
});

t.test('--steps, --reset-threshold and --fp16 reach the runtime', async (t) => {
  const r = runCli([...base(out('d.mkv')), '--model', EXPORT, '--steps', '2', '--reset-threshold', '0', '--fp16', '-v']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /distilled for 4 denoising steps; running 2/);
  t.match(r.stderr, /--fp16 applies to GPU execution providers/);
  t.match(r.stderr, /frame \d+: scene cut \(mean LR difference 0\.0\d+\), history dropped/, 'threshold 0: every changed frame is a cut (verbose log)');
  const bad = runCli([...base(out('e.mkv')), '--model', EXPORT, '--reset-threshold', '-1']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--reset-threshold -1/);
});

t.test('frames mode takes --seed and --steps as the default command does', async (t) => {
  mkdirSync(out('seqs/seq'), { recursive: true });
  ffmpeg(['-i', clips.small(), '-frames:v', '2', out('seqs/seq/%03d.png')]);
  const pngs = (name: string, extra: string[]) => {
    const r = runCli(['frames', '--in_path', out('seqs'), '--out_path', out(name), '--model_id', EXPORT, '--threads', '1', '-q', ...extra]);
    t.equal(r.code, 0, r.stderr);
    return decodeRgb(join(out(name), 'seqs', 'seq', '002.png')).frames[0]!;
  };
  const a = pngs('fa', ['--seed', '5']);
  t.ok(pngs('fb', ['--seed', '5']).equals(a), 'same --seed: the same frame');
  t.notOk(pngs('fc', ['--seed', '6']).equals(a), 'another --seed: another frame');
  t.notOk(pngs('fd', ['--seed', '5', '--steps', '2']).equals(a), '--steps 2: another frame');
});

t.test('a missing or incomplete export: one message listing the files and pointing to the README', async (t) => {
  const none = runCli([...base(out('f.mkv')), '--model', 'stream-diffvsr', '--model-dir', join(tmp, 'nowhere')]);
  t.equal(none.code, 2);
  t.match(none.stderr, /no export found \(a folder holding manifest\.json, empty_prompt_embeds\.f32, flow\.onnx/);
  t.match(none.stderr, /README\.md, section 'Stream-DiffVSR: export and run'/);
  t.equal(none.stderr.trim().split('\n').length, 1, 'one line');

  const empty = join(tmp, 'empty-export');
  mkdirSync(empty);
  writeFileSync(join(empty, 'flow.onnx'), '');
  const partial = runCli([...base(out('g.mkv')), '--model', 'stream-diffvsr', '--model-dir', empty]);
  t.equal(partial.code, 2);
  t.match(partial.stderr, /not a complete Stream-DiffVSR export; missing: manifest\.json, empty_prompt_embeds\.f32, warp_encode\.onnx/);

  const broken = await interfaceExport();
  rmSync(join(broken, 'unet.onnx'));
  rmSync(join(broken, 'empty_prompt_embeds.f32'));
  const missing = runCli([...base(out('h.mkv')), '--model', broken]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /is incomplete; missing: empty_prompt_embeds\.f32, unet\.onnx\. Re-run the exporter/);

  const checkpoint = join(tmp, 'checkpoint');
  mkdirSync(join(checkpoint, 'unet'), { recursive: true });
  writeFileSync(join(checkpoint, 'unet', 'config.json'), '{}');
  const torch = runCli([...base(out('i.mkv')), '--model', checkpoint]);
  t.equal(torch.code, 2);
  t.match(torch.stderr, /is a PyTorch checkpoint, not an ONNX export; convert it with models\/stream-diffvsr\/export\.py/);

  const hub = runCli([...base(out('j.mkv')), '--model', 'Jamichsu/Stream-DiffVSR']);
  t.equal(hub.code, 2);
  t.match(hub.stderr, /Hugging Face checkpoint id, export it to ONNX first/);
});

t.test('an input the model cannot take is refused before any output is written', async (t) => {
  const r = runCli(['-i', clips.pixfmt('rgb24'), '-o', out('k.mkv'), '-c:v', 'ffv1', '-q', '--model', EXPORT, '--scale', '2']);
  t.equal(r.code, 2);
  t.match(r.stderr, /upscales x4 only/);
});

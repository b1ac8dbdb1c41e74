import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NUMBER, decodeRgb, ffmpeg, probeStreams, psnrY } from './helpers/media.js';
import { runCli } from './helpers/cli.js';
import { writeHistoryModel } from './helpers/history-model.js';
import { layoutParentName } from '../src/pipeline/frames-job.js';
import { PngEncoder } from '../src/av/png-encoder.js';
import { PngFolderSource } from '../src/sources/png-folder.js';
import { Credit } from '../src/core/credit.js';
import { RunStats } from '../src/core/stats.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-frames-'));

/** DIR/<seq>/ of testsrc2 PNGs: names whose code-point order is not their numeric order. */
function twoSequences(root: string): { a: string[]; b: string[] } {
  const a = ['frame_0001.png', 'frame_0002.png', 'frame_0003.png'];
  const b = ['10.png', '8.png', '9.png'];
  mkdirSync(join(root, 'seqA'), { recursive: true });
  mkdirSync(join(root, 'seqB'), { recursive: true });
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=25:duration=0.12', '-vf', NUMBER, join(root, 'seqA', 'frame_%04d.png')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=40x24:rate=25:duration=0.12', '-vf', NUMBER, '-start_number', '8', join(root, 'seqB', '%d.png')]);
  writeFileSync(join(root, 'notes.txt'), 'not a sequence');
  writeFileSync(join(root, 'seqA', 'Thumbs.db'), 'not a frame');
  return { a, b };
}

const size = (png: string): [number, number] => {
  const s = probeStreams(png)[0]!;
  return [Number(s.width), Number(s.height)];
};

t.test('two sequences: same names, counts, x4 sizes, in out_path/<in_path name>/<seq>/', async (t) => {
  const inPath = join(tmp, 'LR');
  const { a, b } = twoSequences(inPath);
  const out = join(tmp, 'results');
  const r = runCli(['frames', '--in_path', inPath, '--out_path', out, '--model_id', 'bicubic']);
  t.equal(r.code, 0, r.stderr);
  t.same(readdirSync(out), ['LR'], 'one folder named after in_path');
  t.same(readdirSync(join(out, 'LR')).sort(), ['seqA', 'seqB']);
  t.same(readdirSync(join(out, 'LR', 'seqA')).sort(), a, 'seqA: the same file names, nothing else');
  t.same(readdirSync(join(out, 'LR', 'seqB')).sort(), b, 'seqB: the same file names');
  for (const n of a) t.same(size(join(out, 'LR', 'seqA', n)), [192, 128], `seqA/${n} is 192x128`);
  for (const n of b) t.same(size(join(out, 'LR', 'seqB', n)), [160, 96], `seqB/${n} is 160x96`);
  t.equal(probeStreams(join(out, 'LR', 'seqA', a[0]!))[0]!.pix_fmt, 'rgb24', '8-bit RGB PNG, as the reference writes');
  t.match(r.stderr, /notes\.txt/, 'the stray file is named in a warning');
  t.match(r.stderr, /sequence seqA: 1 entry that is not a \.png file skipped: Thumbs\.db/);
  t.match(r.stderr, /Upscaled seqA \(3 frames, 48x32 → 192x128\) and saved to .*results\/LR\/seqA/);
  // each output is its own input upscaled: 10.png is testsrc2 frame 2, 8.png frame 0
  for (const [name, frame] of [['8.png', 0], ['10.png', 2]] as const) {
    const up = join(tmp, `ref-${name}`);
    ffmpeg(['-i', join(inPath, 'seqB', name), '-vf', 'scale=iw*4:ih*4:flags=bicubic', up]);
    const p = psnrY(decodeRgb(join(out, 'LR', 'seqB', name)).frames[0]!, decodeRgb(up).frames[0]!);
    t.ok(p > 30, `seqB/${name} (frame ${frame}) is its own input upscaled (PSNR-Y ${p.toFixed(1)} dB against ffmpeg bicubic)`);
    const otherName = name === '8.png' ? '10.png' : '8.png';
    const otherUp = join(tmp, `ref-other-${name}`);
    ffmpeg(['-i', join(inPath, 'seqB', otherName), '-vf', 'scale=iw*4:ih*4:flags=bicubic', otherUp]);
    const wrong = psnrY(decodeRgb(join(out, 'LR', 'seqB', name)).frames[0]!, decodeRgb(otherUp).frames[0]!);
    t.ok(wrong < p - 6, `and not ${otherName} upscaled (${wrong.toFixed(1)} dB): the frames differ`);
  }

  const again = runCli(['frames', '--in_path', inPath, '--out_path', out]);
  t.equal(again.code, 2, 'existing results are not replaced without -y');
  t.match(again.stderr, /results\/LR\/seqA\/frame_0001\.png' already exists; use -y/);
  t.equal(runCli(['frames', '--in_path', inPath, '--out_path', out, '-y', '-q']).code, 0, '-y replaces them');
});

t.test('each sequence is its own causal stream: the history starts empty in each', async (t) => {
  const inPath = join(tmp, 'flat');
  // flat grey pictures: the test model's output tells which history it saw (see history-model.ts)
  const values: Record<string, number[]> = { s1: [104, 200], s2: [64, 60] };
  for (const [seq, vs] of Object.entries(values)) {
    mkdirSync(join(inPath, seq), { recursive: true });
    vs.forEach((v, i) => ffmpeg(['-f', 'lavfi', '-i', `color=c=0x${v.toString(16).repeat(3)}:s=16x12`, '-frames:v', '1', '-pix_fmt', 'rgb24', join(inPath, seq, `${i}.png`)]));
  }
  const manifest = writeHistoryModel(join(tmp, 'models'));
  // change-aware compute (the default) and every frame computed whole are two paths through the model
  for (const change of ['6', 'off']) {
    const out = join(tmp, `flat-out-${change}`);
    const r = runCli(['frames', '--in_path', inPath, '--out_path', out, '--model_id', manifest, '--change-threshold', change, '-q']);
    t.equal(r.code, 0, r.stderr);
    const level = (seq: string, i: number): number[] => {
      const px = decodeRgb(join(out, 'flat', seq, `${i}.png`)).frames[0]!;
      return [Math.min(...px), Math.max(...px)];
    };
    // out = 0.5 up(0.5 f + 0.5 prev_f) + 0.5 prev_out; no history: 0.25 f
    t.same(level('s1', 0), [26, 26], `--change-threshold ${change}: s1 frame 0: no history (0.25 x 104)`);
    t.same(level('s1', 1), [89, 89], `--change-threshold ${change}: s1 frame 1: sees frame 0 (0.25 x 304 + 0.5 x 26)`);
    t.same(level('s2', 0), [16, 16], `--change-threshold ${change}: s2 frame 0: history reset, not carried over from s1 (that would give 110.5)`);
    t.same(level('s2', 1), [39, 39], `--change-threshold ${change}: s2 frame 1: sees s2 frame 0 (0.25 x 124 + 0.5 x 16)`);
  }
});

t.test("the reference's layout: the last component of in_path as written", async (t) => {
  t.equal(layoutParentName('data/LR'), 'LR');
  t.equal(layoutParentName('data/LR/'), 'LR', 'a trailing slash changes nothing');
  t.equal(layoutParentName('data/LR/.'), 'LR', "'.' components are dropped, as pathlib does");
  t.equal(layoutParentName('.'), '', "in_path '.': results go straight to out_path/<seq>");
  t.equal(layoutParentName('/'), '');
  t.not(layoutParentName('data/..'), '..', "'..' would leave out_path: the folder's real name is used");

  const root = join(tmp, 'cwd-case');
  twoSequences(root);
  const r = runCli(['frames', '--in_path', '.', '--out_path', join(tmp, 'cwd-out'), '-q'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  t.same(readdirSync(join(tmp, 'cwd-out')).sort(), ['seqA', 'seqB'], "in_path '.': out_path/<seq>/, as the reference does");
});

t.test("the reference tool's other options", async (t) => {
  const inPath = join(tmp, 'opts');
  twoSequences(inPath);
  const trt = runCli(['frames', '--in_path', inPath, '--out_path', join(tmp, 'opts-out'), '--enable_tensorrt', '--image_height', '128', '--image_width', '192', '--num_inference_steps', '4']);
  t.equal(trt.code, 0, trt.stderr);
  t.match(trt.stderr, /tensorrt execution provider is not installed/, '--enable_tensorrt asks for TensorRT, which falls back here with a warning');
  t.match(trt.stderr, /--num_inference_steps: model causal-sr is not a diffusion model; ignored/);
  const odd = runCli(['frames', '--in_path', inPath, '--out_path', join(tmp, 'opts-out'), '-y', '--enable_tensorrt', '--image_height', '130', '--image_width', '192']);
  t.equal(odd.code, 2);
  t.match(odd.stderr, /--image-height and --image-width go together, as output sizes that are whole multiples of the scale 4 \(got 130 x 192\)/);
  const noTrt = runCli(['frames', '--in_path', inPath, '--out_path', join(tmp, 'opts-out'), '-y', '-q', '--image_height', '128', '--image_width', '192']);
  t.equal(noTrt.code, 0);
  t.match(noTrt.stderr, /--image-height\/--image-width apply to --device tensorrt only; ignored with --device cpu/);
  const torch = runCli(['frames', '--in_path', inPath, '--controlnet_pretrained_weight', 'w.bin']);
  t.equal(torch.code, 2);
  t.match(torch.stderr, /--controlnet_pretrained_weight: stream-sr runs exported ONNX models, not PyTorch weights/);
  const steps = runCli(['frames', '--in_path', inPath, '--num_inference_steps', '0']);
  t.equal(steps.code, 2);
  t.match(steps.stderr, /--num_inference_steps 0: must be a whole number of at least 1/);
});

t.test('input problems are one-line usage errors', async (t) => {
  const missing = runCli(['frames', '--in_path', join(tmp, 'nowhere'), '--out_path', join(tmp, 'x')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--in_path '.*nowhere': no such folder/);
  const flat = join(tmp, 'flat-pngs');
  mkdirSync(flat);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=16x16:rate=25:duration=0.08', join(flat, '%d.png')]);
  const r = runCli(['frames', '--in_path', flat, '--out_path', join(tmp, 'x')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /no sequence folders \(it holds 2 \.png files: put them in a sequence folder, DIR\/<seq>\/\*\.png, and pass DIR\)/);
  t.notOk(existsSync(join(tmp, 'x')), 'nothing written');
});

t.test('PNG out is the exact inverse of PNG in: an unchanged frame comes back bit for bit', async (t) => {
  // the float frames between stages follow swscale's scaling both ways (white is 0.996, not 1.0,
  // for 8-bit sources); what matters for a picture folder is that reading and writing agree
  const pictures: Record<string, string[]> = {
    testsrc2: ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25:duration=0.04'],
    ramp: ['-f', 'lavfi', '-i', 'nullsrc=s=256x2,geq=r=X:g=255-X:b=X/2', '-frames:v', '1'],
  };
  for (const [name, args] of Object.entries(pictures)) {
    const dir = join(tmp, `roundtrip-${name}`);
    mkdirSync(dir);
    ffmpeg([...args, '-pix_fmt', 'rgb24', join(dir, 'in.png')]);
    const source = new PngFolderSource({ dir });
    await source.open();
    const frame = (await source.frames({ credit: new Credit(1), signal: new AbortController().signal, stats: new RunStats() }).next()).value!;
    const out = join(tmp, `roundtrip-${name}.png`);
    writeFileSync(out, await (await PngEncoder.create(frame.info.width, frame.info.height)).encode(frame));
    t.same(decodeRgb(out).frames[0], decodeRgb(join(dir, 'in.png')).frames[0], `${name}: identical pixels`);
  }
});

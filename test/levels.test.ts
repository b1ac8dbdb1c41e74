import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credit } from '../src/core/credit.js';
import { RunStats } from '../src/core/stats.js';
import { rgbOf, type Frame } from '../src/core/frame.js';
import { levelTable, quantiseLevels } from '../src/core/levels.js';
import { AvSource } from '../src/sources/av-source.js';
import { PngFolderSource } from '../src/sources/png-folder.js';
import { toModelLayout } from '../src/operators/convert-format.js';
import { lastValueFrom, from, toArray } from 'rxjs';
import { GraphBuilder, encodeModel } from '../src/onnx/graph.js';
import { ort } from '../src/inference/ort.js';
import { TAIL_OUTPUTS, withOutputTail } from '../src/inference/output-tail.js';
import { decodeRgb, ffmpeg } from './helpers/media.js';
import { runCli } from './helpers/cli.js';
import { interfaceExport, lrInfo, removeExports } from './helpers/diffvsr.js';
import { loadModel } from '../src/models/load.js';
import { memoryLogger } from '../src/core/log.js';
import type { ModelState } from '../src/inference/sr-model.js';

/**
 * Exact levels: an n-bit level k reaches the model as k/(2^n−1), checked value by value against
 * ffmpeg's own conversion of the same file (its rgb24 or gbrp10le decode with the flags our
 * converter uses), never against our own writer.
 */

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-levels-'));
const SWS = 'bicubic+accurate_rnd+full_chroma_int+full_chroma_inp+bitexact';

/** The floats the model would get for the first `count` frames of `path`. */
async function modelFloats(path: string, count: number, folder = false): Promise<Frame[]> {
  const source = folder ? new PngFolderSource({ dir: path }) : new AvSource({ input: path });
  const info = await source.open();
  const stats = new RunStats();
  const credit = new Credit(count + 1);
  const natives: Frame[] = [];
  for await (const f of source.frames({ credit, signal: new AbortController().signal, stats })) {
    natives.push(f);
    if (natives.length >= count) break;
  }
  const toModel = await toModelLayout('rgb-float', info.video, stats);
  const frames = await lastValueFrom(from(natives).pipe(toModel, toArray()));
  await source.close();
  return frames;
}

/** ffmpeg's decode of `path` into planar R,G,B levels of `format` (gbrp or gbrp10le), frame by frame. */
function ffmpegPlanes(path: string, format: 'gbrp' | 'gbrp10le', width: number, height: number, count: number): Array<Uint8Array | Uint16Array> {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-frames:v', String(count), '-sws_flags', SWS, '-f', 'rawvideo', '-pix_fmt', format, '-'], { maxBuffer: 1 << 28 });
  const bytes = format === 'gbrp' ? 1 : 2;
  const size = width * height;
  const frames: Array<Uint8Array | Uint16Array> = [];
  for (let o = 0; o + 3 * size * bytes <= raw.length; o += 3 * size * bytes) {
    const gbr = bytes === 1 ? new Uint8Array(raw.buffer, raw.byteOffset + o, 3 * size) : new Uint16Array(raw.buffer.slice(raw.byteOffset + o, raw.byteOffset + o + 6 * size));
    const rgb = bytes === 1 ? new Uint8Array(3 * size) : new Uint16Array(3 * size);
    rgb.set(gbr.subarray(2 * size, 3 * size), 0); // R
    rgb.set(gbr.subarray(0, size), size); // G
    rgb.set(gbr.subarray(size, 2 * size), 2 * size); // B
    frames.push(rgb);
  }
  return frames;
}

/** Values where `floats` is not exactly level/max, with the worst offset in levels. */
function mismatches(floats: Float32Array, levels: Uint8Array | Uint16Array, max: number): { count: number; worst: number } {
  let count = 0;
  let worst = 0;
  for (let i = 0; i < floats.length; i++) {
    if (floats[i] !== Math.fround(levels[i]! / max)) {
      count++;
      worst = Math.max(worst, Math.abs(floats[i]! * max - levels[i]!));
    }
  }
  return { count, worst };
}

t.test('the level tables: 8-bit k is k/255, 10-bit k is k/1023, and quantisation inverts them exactly', async (t) => {
  const l8 = levelTable(8);
  t.equal(l8[128], Math.fround(128 / 255));
  t.equal(l8[255], 1, 'white is 1, not 255/256');
  t.equal(levelTable(10)[1023], 1);
  for (const depth of [8, 10, 12, 16]) {
    const table = levelTable(depth);
    const back = depth > 8 ? new Uint16Array(table.length) : new Uint8Array(table.length);
    quantiseLevels(table, depth, back);
    t.ok(back.every((v, k) => v === k), `${depth}-bit: all ${table.length} levels come back`);
  }
  const out = new Uint8Array(4);
  quantiseLevels(Float32Array.of(-0.5, 1.7, Infinity, -Infinity), 8, out);
  t.same(Array.from(out), [0, 255, 255, 0], 'out-of-range values clamp');
  t.throws(() => quantiseLevels(Float32Array.of(0.5, NaN), 8, out), { position: 1, message: /not a number at sample 1/ }, 'NaN is an error, not black');
});

t.test('the floats a model gets equal ffmpeg\'s own decode, level for level', async (t) => {
  // 8-bit sources: every format family, BT.601 and BT.709, limited and full range
  const cases: Array<{ name: string; args: string[]; ten?: boolean }> = [
    { name: 'yuv420p bt709 tv', args: ['-vf', 'scale=out_color_matrix=bt709:out_range=tv', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_range', 'tv'] },
    { name: 'yuv420p bt601 pc', args: ['-vf', 'scale=out_color_matrix=bt601:out_range=pc', '-pix_fmt', 'yuv420p', '-colorspace', 'smpte170m', '-color_range', 'pc'] },
    { name: 'yuv444p bt601 tv', args: ['-vf', 'scale=out_color_matrix=bt601:out_range=tv', '-pix_fmt', 'yuv444p', '-colorspace', 'smpte170m', '-color_range', 'tv'] },
    { name: 'rgb24', args: ['-pix_fmt', 'rgb24'] },
    { name: 'gray', args: ['-pix_fmt', 'gray'] },
    { name: 'yuv420p10le bt709 tv', args: ['-vf', 'scale=out_color_matrix=bt709:out_range=tv', '-pix_fmt', 'yuv420p10le', '-colorspace', 'bt709', '-color_range', 'tv'], ten: true },
    { name: 'yuv444p10le bt601 pc', args: ['-vf', 'scale=out_color_matrix=bt601:out_range=pc', '-pix_fmt', 'yuv444p10le', '-colorspace', 'smpte170m', '-color_range', 'pc'], ten: true },
  ];
  for (const c of cases) {
    const path = join(tmp, `${c.name.replace(/ /g, '-')}.mkv`);
    // frames that differ (the frame number burnt in) and a full ramp of levels across the picture
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=0.12', '-vf', "drawtext=text=%{n}:x=4:y=4:fontsize=20:fontcolor=white", ...c.args, '-c:v', 'ffv1', '-f', 'matroska', path]);
    const frames = await modelFloats(path, 3);
    const reference = ffmpegPlanes(path, c.ten ? 'gbrp10le' : 'gbrp', 96, 64, 3);
    t.equal(frames.length, 3, `${c.name}: 3 frames`);
    frames.forEach((f, i) => {
      const m = mismatches(rgbOf(f), reference[i]!, c.ten ? 1023 : 255);
      t.equal(m.count, 0, `${c.name} frame ${i}: every value is ffmpeg's level / ${c.ten ? 1023 : 255} (${m.count} differ, worst ${m.worst.toFixed(3)} levels)`);
    });
  }
});

t.test('ramps of all 256 (8-bit) and all 1024 (10-bit) levels reach the model exactly', async (t) => {
  const ramp8 = join(tmp, 'ramp8');
  execFileSync('mkdir', ['-p', ramp8]);
  ffmpeg(['-f', 'lavfi', '-i', 'nullsrc=s=256x2,geq=r=X:g=255-X:b=X/2', '-frames:v', '1', '-pix_fmt', 'rgb24', join(ramp8, 'f.png')]);
  const [f8] = await modelFloats(ramp8, 1, true);
  const rgb8 = rgbOf(f8!);
  t.ok(Array.from({ length: 256 }, (_, x) => rgb8[x] === Math.fround(x / 255)).every(Boolean), 'R: level x is x/255 for x = 0..255');
  t.equal(rgb8[255], 1, 'white is exactly 1');
  const ramp10 = join(tmp, 'ramp10.mkv');
  ffmpeg(['-f', 'lavfi', '-i', 'nullsrc=s=1024x2', '-vf', 'format=gbrp10le,geq=r=X:g=1023-X:b=X/2', '-frames:v', '1', '-c:v', 'ffv1', '-pix_fmt', 'gbrp10le', '-f', 'matroska', ramp10]);
  const [f10] = await modelFloats(ramp10, 1);
  const rgb10 = rgbOf(f10!);
  const ref10 = ffmpegPlanes(ramp10, 'gbrp10le', 1024, 2, 1)[0]!;
  t.ok(Array.from({ length: 1024 }, (_, x) => ref10[x] === x).every(Boolean), 'the 10-bit ramp file holds levels 0..1023 (checked by ffmpeg)');
  t.ok(Array.from({ length: 1024 }, (_, x) => rgb10[x] === Math.fround(x / 1023)).every(Boolean), 'R: level x is x/1023 for x = 0..1023');
});

t.test('Stream-DiffVSR through the CLI on PNG frames writes exactly what the runtime gives for u8/255', async (t) => {
  const exported = await interfaceExport();
  t.teardown(removeExports);
  const seqs = join(tmp, 'diffvsr-in');
  mkdirSync(join(seqs, 'seq'), { recursive: true });
  // 40x32 frames that differ, with saturated and dark areas (levels near 0 and 255)
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=40x32:rate=25:duration=0.12', '-vf', 'drawtext=text=%{n}:x=2:y=2:fontsize=16:fontcolor=white', '-frames:v', '3', '-pix_fmt', 'rgb24', join(seqs, 'seq', '%03d.png')]);
  const r = runCli(['frames', '--in_path', seqs, '--out_path', join(tmp, 'diffvsr-out'), '--model_id', exported, '--threads', '1', '--seed', '7', '-q']);
  t.equal(r.code, 0, r.stderr);
  const model = await loadModel(exported, { scale: 4, session: { device: { device: 'cpu' }, threads: 1, log: memoryLogger() }, diffusion: { seed: 7 } });
  await model.configure(lrInfo(40, 32), 'rgb-float');
  let state: ModelState | undefined;
  for (const name of ['001.png', '002.png', '003.png']) {
    // the runtime fed u8/255 of ffmpeg's own decode, quantised as the reference writes frames
    const lr = decodeRgb(join(seqs, 'seq', name)).frames[0]!;
    const rgb = new Float32Array(3 * 40 * 32);
    for (let p = 0; p < 40 * 32; p++) for (let c = 0; c < 3; c++) rgb[c * 40 * 32 + p] = lr[3 * p + c]! / 255;
    const step = await model.upscale({ info: lrInfo(40, 32), pts: 0, duration: 1, index: 0, layout: 'rgb-float', rgb }, state);
    state = step.state;
    const hr = rgbOf({ info: lrInfo(160, 128), pts: 0, duration: 1, index: 0, ...step.pixels });
    const expected = Buffer.alloc(3 * 160 * 128);
    for (let p = 0; p < 160 * 128; p++) for (let c = 0; c < 3; c++) expected[3 * p + c] = Math.round(Math.min(1, Math.max(0, hr[c * 160 * 128 + p]!)) * 255);
    const written = decodeRgb(join(tmp, 'diffvsr-out', 'diffvsr-in', 'seq', name)).frames[0]!;
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (expected[i] !== written[i]) differ++;
    t.equal(differ, 0, `${name}: every written level equals round(clamp(x)·255) of the runtime's output (${differ} differ)`);
  }
  await model.dispose();
});

t.test("the output tail in the model's graph gives the same levels and clamped values as the JavaScript quantiser", async (t) => {
  const g = new GraphBuilder('identity');
  g.input('x', 'float32', [1, 3, 'h', 'w']);
  g.op('Identity', ['x'], {}, 'output');
  g.output('output', 'float32', [1, 3, 'h', 'w']);
  const session = await ort().InferenceSession.create(withOutputTail(encodeModel(g), 'output'));
  // every level, the ties between levels (k + 0.5)/255, and values out of range
  const values = [...Array.from({ length: 256 }, (_, k) => k / 255), ...Array.from({ length: 255 }, (_, k) => (k + 0.5) / 255), -1, -0.001, 1.001, 7];
  const x = Float32Array.from({ length: 3 * 2 * 256 }, (_, i) => values[i % values.length]!);
  const out = await session.run({ x: new (ort().Tensor)('float32', x, [1, 3, 2, 256]) });
  const mine = new Uint8Array(x.length);
  quantiseLevels(x, 8, mine);
  t.same(Array.from(out[TAIL_OUTPUTS.levels]!.data as Uint8Array), Array.from(mine), 'levels: ONNX Round (ties to even) equals the quantiser, ties included');
  t.same(Array.from(out[TAIL_OUTPUTS.clamped]!.data as Float32Array), Array.from(x, (v) => Math.min(1, Math.max(0, v))), 'clamped to 0..1');
  t.equal(Number(out[TAIL_OUTPUTS.nans]!.data[0]), 0, 'no NaN counted');
  x[5] = NaN;
  x[700] = NaN;
  const bad = await session.run({ x: new (ort().Tensor)('float32', x, [1, 3, 2, 256]) });
  t.equal(Number(bad[TAIL_OUTPUTS.nans]!.data[0]), 2, 'two NaN counted');
  await session.release();
});

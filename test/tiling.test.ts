import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, VideoInfo } from '../src/core/frame.js';
import { rgbOf } from '../src/core/frame.js';
import { memoryLogger, silentLogger } from '../src/core/log.js';
import { featherWeights, tileGrid, tileSpans } from '../src/inference/tile-grid.js';
import { TiledModel, withTiling } from '../src/inference/tiled-model.js';
import type { ModelState, SrModel } from '../src/inference/sr-model.js';
import { loadModel } from '../src/models/load.js';
import { findModel, listModelIds, searchPath } from '../src/models/registry.js';
import { measureInChildProcess } from '../src/models/measure-memory.js';
import { parseSize } from '../src/pipeline/model-options.js';
import { NUMBER, clips, decodeRgb, fixture, probeVideoFrames, sharedData } from './helpers/media.js';
import { writeHistoryModel } from './helpers/history-model.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-tiling-'));
const session = { device: { device: 'cpu' as const }, threads: 2, log: silentLogger };
/** The trained models other work converts; each is tested when installed, and named when not. */
const TRAINED = ['esrgan-slim', 'esrgan-medium', 'realesr-general-x4v3', 'realesr-animevideov3'];

t.test('tiles cover the frame evenly, all the same size, overlapping by at least the overlap', async (t) => {
  for (const [length, tile, overlap] of [[180, 64, 16], [120, 64, 16], [100, 100, 16], [65, 64, 16], [1000, 96, 8], [57, 20, 5]] as const) {
    const spans = tileSpans(length, tile, overlap);
    t.equal(spans[0]!.start, 0, `${length}/${tile}: starts at 0`);
    t.equal(spans.at(-1)!.start + spans.at(-1)!.size, Math.max(length, 0), `${length}/${tile}: ends at the frame edge`);
    t.ok(spans.every((s) => s.size === Math.min(tile, length)), `${length}/${tile}: one tile size`);
    const overlaps = spans.slice(1).map((s, i) => spans[i]!.start + spans[i]!.size - s.start);
    t.ok(overlaps.every((o) => o >= overlap), `${length}/${tile}: neighbours overlap by ${overlaps.join(', ') || '-'} ≥ ${overlap}`);
  }
  t.same(tileSpans(180, 64, 16), [{ start: 0, size: 64 }, { start: 38, size: 64 }, { start: 77, size: 64 }, { start: 116, size: 64 }]);
  // 7 x (308 - 64) / 7 is 243.99999... in floating point: the last tile must still end at the edge
  t.same(tileSpans(308, 64, 24).at(-1), { start: 244, size: 64 }, 'the last tile ends at the edge exactly');
  // aligned: starts at multiples of 2, the tile rounded down to even, the last one reaching the edge
  const aligned = tileSpans(161, 99, 32, 2);
  t.same(aligned, [{ start: 0, size: 98 }, { start: 62, size: 99 }], 'aligned spans: even starts, the last one to the edge');
  for (const [length, tile, overlap] of [[320, 141, 48], [181, 97, 32], [1000, 255, 48]] as const) {
    const spans = tileSpans(length, tile, overlap, 2);
    t.ok(spans.every((s) => s.start % 2 === 0), `${length}/${tile} aligned: every start even`);
    t.equal(spans.at(-1)!.start + spans.at(-1)!.size, length, `${length}/${tile} aligned: ends at the edge`);
    const overlaps = spans.slice(1).map((s, i) => spans[i]!.start + spans[i]!.size - s.start);
    t.ok(overlaps.every((o) => o >= overlap - 1), `${length}/${tile} aligned: overlaps ${overlaps.join(', ')} ≥ ${overlap} - 1`);
  }
});

t.test('feathered weights add up to exactly one wherever tiles overlap', async (t) => {
  for (const [length, tile, overlap, scale] of [[180, 64, 16, 4], [120, 48, 16, 2], [333, 50, 12, 4], [90, 40, 0, 4]] as const) {
    const spans = tileSpans(length, tile, overlap);
    const total = new Float64Array(length * scale);
    spans.forEach((s, i) => featherWeights(spans, i, scale).forEach((w, k) => (total[s.start * scale + k] += w)));
    const worst = total.reduce((m, v) => Math.max(m, Math.abs(v - 1)), 0);
    t.ok(worst < 1e-6, `${length}/${tile}/${overlap} x${scale}: weights sum to 1 (worst ${worst})`);
  }
  // tile 1 of 180 in 64s starts at 38, so it overlaps tile 0 by 26 input (104 output) pixels:
  // 34 left to tile 0, a 36-pixel cross-fade, then tile 1 alone
  const w = featherWeights(tileSpans(180, 64, 16), 1, 4);
  t.equal(w[0], 0, 'the cut edge itself is left to the neighbour');
  t.equal(w[33], 0, 'so is the third of the overlap nearest it');
  t.ok(w[51]! < 0.5 && w[52]! > 0.5 && Math.abs(w[51]! + w[52]! - 1) < 1e-6, 'half weight mid-overlap');
  t.equal(w[70], 1, 'full weight past two thirds of the overlap');
  t.equal(tileGrid(180, 120, 64, 16, 4).length, 12, '4 x 3 tiles');
});

function frameOf(rgb24: Buffer, width: number, height: number, index: number): Frame {
  const size = width * height;
  const rgb = new Float32Array(3 * size);
  for (let p = 0; p < size; p++) for (let c = 0; c < 3; c++) rgb[c * size + p] = rgb24[3 * p + c]! / 255;
  const info: VideoInfo = {
    width,
    height,
    pixelFormat: 'rgb24',
    timeBase: { num: 1, den: 25 },
    sampleAspect: { num: 1, den: 1 },
    color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  };
  return { info, pts: index, duration: 1, index, layout: 'rgb-float', rgb };
}

/** Upscales frames 0..n-1 in order, handing back the state each frame returns, as superResolve does. */
async function run(model: SrModel, frames: Frame[]): Promise<Float32Array[]> {
  await model.configure(frames[0]!.info, 'rgb-float');
  const outs: Float32Array[] = [];
  let state: ModelState | undefined;
  for (const current of frames) {
    const step = await model.upscale(current, state);
    outs.push(Float32Array.from(rgbOf({ ...current, ...step.pixels })));
    state = step.state;
  }
  return outs;
}

function agreement(a: Float32Array, b: Float32Array): { within1: number; max255: number } {
  let within = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d <= 1 / 255) within++;
    if (d > max) max = d;
  }
  return { within1: within / a.length, max255: max * 255 };
}

/** Per-frame agreement of an untiled and a tiled run of model `name` over `frames`. */
async function tiledVersusWhole(name: string, frames: Frame[], tile: number): Promise<Array<{ within1: number; max255: number }>> {
  const whole = await run(await loadModel(name, { scale: 4, session }), frames);
  const tiled = new TiledModel(await loadModel(name, { scale: 4, session }), { tile, log: silentLogger });
  const parts = await run(tiled, frames);
  await tiled.dispose();
  return parts.map((out, i) => agreement(whole[i]!, out));
}

t.test('tiled and untiled runs of a real Vid4 frame agree (bicubic and every installed trained model)', async (t) => {
  const lr = sharedData('vid4_walk', 'lr_x4.mkv');
  if (!lr) return t.skip('../shared/data/vid4_walk is absent: skipping the real-frame tiling comparison');
  const { frames, width, height } = decodeRgb(lr);
  const real = frames.slice(0, 2).map((f, i) => frameOf(f, width, height, i));
  const installed = await listModelIds(searchPath());
  const ids = ['bicubic'];
  for (const id of installed.filter((x) => x !== 'bicubic')) {
    const m = await findModel(id);
    if (m.kind !== 'frame-graph' || !m.variants.some((v) => v.scale === 4)) t.comment(`${id}: kind ${m.kind}, not an x4 frame graph here: skipped`);
    else if (m.color === 'luma') t.comment(`${id}: a luma model, tiling its own planes (its own test below): skipped here`);
    else ids.push(id);
  }
  for (const id of TRAINED.filter((x) => !installed.includes(x))) t.comment(`${id} is not installed (models/, --model-dir, STREAM_SR_MODEL_PATH): skipped`);
  // 180x120 in tiles of 114: 2 x 2 tiles, overlapping by exactly the default 48 pixels across x
  for (const id of ids) {
    await t.test(id, async (t) => {
      for (const [i, a] of (await tiledVersusWhole(id, real, 114)).entries()) {
        t.comment(`${id} frame ${i}, tiles of 114: ${(a.within1 * 100).toFixed(4)}% within 1/255, max ${a.max255.toFixed(3)}/255`);
        t.ok(a.within1 >= 0.999, `${id} frame ${i}: ≥ 99.9% of values within 1/255 (${(a.within1 * 100).toFixed(4)}%)`);
        t.ok(a.max255 <= 4, `${id} frame ${i}: never more than 4/255 apart (max ${a.max255.toFixed(3)}/255)`);
      }
    });
  }
});

t.test('history models get the previous input and output cropped to their own tile', async (t) => {
  const manifest = writeHistoryModel(join(tmp, 'models'));
  const input = clips.numbered();
  const { frames, width, height } = decodeRgb(input);
  const seq = frames.slice(0, 3).map((f, i) => frameOf(f, width, height, i));
  t.notOk(frames[0]!.equals(frames[1]!) || frames[1]!.equals(frames[2]!), 'the frames differ, so history from the wrong frame would show');
  // 64x48 in tiles of 24 with overlap 6: 3 x 2 tiles; a misplaced history crop shows at once
  const whole = await run(await loadModel(manifest, { scale: 4, session }), seq);
  const tiled = await run(new TiledModel(await loadModel(manifest, { scale: 4, session }), { tile: 24, overlap: 6, log: silentLogger }), seq);
  for (let i = 0; i < seq.length; i++) {
    const a = agreement(whole[i]!, tiled[i]!);
    t.ok(a.within1 >= 0.999 && a.max255 <= 4, `frame ${i}: ${(a.within1 * 100).toFixed(3)}% within 1/255, max ${a.max255.toFixed(3)}/255`);
  }
});

t.test('the memory probe measures a plausible figure per input pixel in a fresh process', async (t) => {
  const info = frameOf(Buffer.alloc(3 * 200 * 160), 200, 160, 0).info;
  const probe = await measureInChildProcess({ model: 'bicubic', options: { scale: 4, session: { device: { device: 'cpu' }, threads: 2 } }, input: info, probeSide: 128 });
  t.comment(`bicubic x4: ${probe.bytesPerPixel.toFixed(0)} bytes per input pixel (${probe.precise ? 'peak RSS' : 'RSS after the run'}, ${probe.probeWidth}x${probe.probeHeight} probe)`);
  // the graph's own tensors: input 3, 16 phase planes and the 3 output planes of 16 pixels, as float32
  const tensors = 4 * (3 + 3 * 16 + 16 * 3);
  t.ok(probe.bytesPerPixel >= tensors && probe.bytesPerPixel < 10 * tensors, `${probe.bytesPerPixel.toFixed(0)} B/px, at least the ${tensors} B/px of its tensors`);
});

t.test('--max-memory picks the largest tile that fits, and leaves frames that fit alone', async (t) => {
  const info = frameOf(Buffer.alloc(3 * 200 * 160), 200, 160, 0).info;
  const measure = async () => ({ bytesPerPixel: 1000, probeWidth: 128, probeHeight: 128, precise: true });
  const log = memoryLogger();
  const tiled = new TiledModel(await loadModel('bicubic', { scale: 4, session }), { maxMemoryBytes: 11_000_000, measure, log });
  t.same(await tiled.configure(info).then((o) => [o.width, o.height]), [800, 640]);
  // 1000 B/px with 10% headroom: 1100 B/px, so 10^4 px, a 100x100 tile, down to a multiple of 16
  t.match(log.lines.join('\n'), /200x160 frame needs about 33\.6 MiB in model bicubic, over --max-memory 10\.5 MiB: upscaling in tiles of 96x96/);
  await tiled.dispose();
  // probes 3% apart (what one run against another gives) pick the same tiles
  for (const bytesPerPixel of [1000 * 0.985, 1000 * 1.015]) {
    const noisyLog = memoryLogger();
    const noisy = new TiledModel(await loadModel('bicubic', { scale: 4, session }), { maxMemoryBytes: 11_000_000, measure: async () => ({ bytesPerPixel, probeWidth: 128, probeHeight: 128, precise: true }), log: noisyLog });
    await noisy.configure(info);
    t.match(noisyLog.lines.join('\n'), /tiles of 96x96/, `${bytesPerPixel} B/px: the same 96x96 tiles`);
    await noisy.dispose();
  }

  const roomyLog = memoryLogger();
  const roomy = new TiledModel(await loadModel('bicubic', { scale: 4, session }), { maxMemoryBytes: 2 ** 30, measure, log: roomyLog });
  await roomy.configure(info);
  t.notOk(roomyLog.lines.some((l) => /tiles of/.test(l)), 'a frame that fits is not tiled');
  await roomy.dispose();

  const tight = new TiledModel(await loadModel('bicubic', { scale: 4, session }), { maxMemoryBytes: 100_000, measure, log: memoryLogger() });
  await t.rejects(tight.configure(info), /--max-memory 97\.7 KiB is too small for model bicubic: it takes about 1000 bytes per input pixel \(planned as 1100, with headroom\), so even a 96x96 tile needs [\d.]+ MiB/, 'the probe\'s figure, as -v gives it, and the one planned with');
  await tight.dispose();

  // a frame no larger than the smallest tile: the refusal is about the whole frame, not tiles it cannot be cut into
  const tinyModel = new TiledModel(await loadModel('bicubic', { scale: 4, session }), { maxMemoryBytes: 50_000, measure, log: memoryLogger() });
  await t.rejects(tinyModel.configure({ ...info, width: 9, height: 8 }), /^--max-memory 48\.8 KiB is too small for model bicubic: a whole 9x8 frame needs about 77\.3 KiB, and a frame this small is not cut into tiles$/);
  await tinyModel.dispose();
});

t.test('stream-sr --max-memory tiles a real clip and agrees with the untiled output', async (t) => {
  const walk = sharedData('vid4_walk', 'lr_x4.mkv');
  if (!walk) return t.skip('../shared/data/vid4_walk is absent');
  const lr = fixture('walk-lr-8.mkv', (o) => ['-i', walk, '-frames:v', '8', '-c:v', 'ffv1', '-f', 'matroska', o]);
  const whole = join(tmp, 'walk-whole.mkv');
  const tiled = join(tmp, 'walk-tiled.mkv');
  // esrgan-slim (about 2 kB per input pixel): bicubic runs in swscale, which a budget leaves untiled
  if (!(await findModel('esrgan-slim').catch(() => undefined))) return t.skip('esrgan-slim is not installed (make models)');
  const clip = ['-i', lr, '--model', 'esrgan-slim', '-c:v', 'ffv1', '-y', '-q'];
  t.equal(runCli([...clip, '-o', whole]).code, 0);
  const r = runCli([...clip, '-o', tiled, '--max-memory', '24M', '-v']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /over --max-memory 24\.0 MiB: upscaling in tiles of \d+x\d+/);
  const a = decodeRgb(whole).frames;
  const b = decodeRgb(tiled).frames;
  t.equal(b.length, 8, 'every frame');
  let within = 0;
  let total = 0;
  let max = 0;
  a.forEach((f, i) => f.forEach((v, k) => {
    const d = Math.abs(v - b[i]![k]!);
    total++;
    if (d <= 1) within++;
    max = Math.max(max, d);
  }));
  t.ok(within / total >= 0.999 && max <= 4, `8-bit outputs: ${((within / total) * 100).toFixed(4)}% within 1 level, max ${max}`);
});

t.test('options: sizes, tile limits, and no wrapper without tiling', async (t) => {
  t.equal(parseSize('512M', '--max-memory'), 512 * 2 ** 20);
  t.equal(parseSize('1.5G', '--max-memory'), 1.5 * 2 ** 30);
  t.equal(parseSize('4096', '--max-memory'), 4096);
  t.throws(() => parseSize('lots', '--max-memory'), /--max-memory lots: not a size/);
  const inner = await loadModel('bicubic', { scale: 2, session });
  t.equal(withTiling(inner, { log: silentLogger }), inner, 'no options, no wrapper');
  t.throws(() => new TiledModel(inner, { tile: 20, overlap: 16, log: silentLogger }), /--tile 20: must be at least twice the tile overlap/);
  await inner.dispose();
});

t.test('stream-sr --tile upscales a clip with every frame kept', async (t) => {
  const input = clips.small();
  const out = join(tmp, 'tiled.mkv');
  const r = runCli(['-i', input, '-o', out, '--model', 'esrgan-slim', '--scale', '2', '--tile', '32', '--tile-overlap', '8', '-c:v', 'ffv1', '-q', '-v']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /tiling 64x48 into 6 tiles of 32x32 \(overlap 8\)/);
  const frames = probeVideoFrames(out);
  t.equal(frames.length, probeVideoFrames(input).length, 'frames in = frames out');
  t.same([frames[0]?.width, frames[0]?.height], [128, 96]);
  const nan = runCli(['-i', input, '-o', join(tmp, 'nan.mkv'), '--tile', 'abc']);
  t.equal(nan.code, 2);
  t.match(nan.stderr, /^stream-sr: --tile abc: must be a whole number of at least 1\n$/, 'the value quoted as typed');
  const bad = runCli(['-i', input, '-o', join(tmp, 'bad.mkv'), '--tile', '10']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--tile 10: must be at least twice the tile overlap \(48\)/);
  const alone = runCli(['-i', input, '-o', join(tmp, 'overlap-alone.mkv'), '--tile-overlap', '16']);
  t.equal(alone.code, 2, '--tile-overlap without tiling: a usage error, not silently ignored');
  t.equal(alone.stderr, 'stream-sr: --tile-overlap 16: has no effect without --tile or --max-memory\n');
  t.notOk(existsSync(join(tmp, 'overlap-alone.mkv')), 'and no output file');
});

t.test('--max-memory leaves bicubic in swscale (no model memory to budget): the same pixels as untiled, no float stage', async (t) => {
  const input = clips.small();
  const whole = join(tmp, 'bicubic-whole.mkv');
  const budget = join(tmp, 'bicubic-budget.mkv');
  t.equal(runCli(['-i', input, '-o', whole, '--model', 'bicubic', '-c:v', 'ffv1', '-q']).code, 0);
  const r = runCli(['-i', input, '-o', budget, '--model', 'bicubic', '--max-memory', '20M', '-c:v', 'ffv1', '-q', '-v']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /model bicubic runs in swscale, which needs no model memory: --max-memory leaves it untiled/);
  t.match(r.stderr, /formats: yuv420p → bicubic → yuv420p\n/, 'no float RGB stage');
  const a = decodeRgb(whole).frames;
  const b = decodeRgb(budget).frames;
  t.equal(b.length, a.length);
  t.ok(a.every((f, i) => f.equals(b[i]!)), 'every frame the same as the untiled run');
});

/** Planar yuv420p frames of a file, as ffmpeg decodes them. */
function decodeYuv420(path: string, width: number, height: number): Array<{ y: Buffer; chroma: Buffer }> {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { maxBuffer: 1 << 28 });
  const size = (width * height * 3) / 2;
  const frames = [];
  for (let o = 0; o + size <= raw.length; o += size) frames.push({ y: raw.subarray(o, o + width * height), chroma: raw.subarray(o + width * height, o + size) });
  return frames;
}

function psnrPlane(a: Buffer, b: Buffer): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

t.test('the default luma model tiles its Y planes: the first frame as untiled, later ones close, chroma untouched', async (t) => {
  // 160x96 in tiles of 99 with overlap 32: two tiles side by side (of 98 and 98 pixels: plane tiles
  // start at even pixels, on the grid of the motion estimator's half resolution), each leaving 10
  // pixels or more at its cut edge to the other, more than the body's reach (6 pixels), so a frame
  // without history matches
  const input = fixture('numbered-160x96.mkv', (o) => ['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=0.24', '-vf', NUMBER, '-c:v', 'ffv1', '-f', 'matroska', o]);
  const whole = join(tmp, 'luma-whole.mkv');
  const tiled = join(tmp, 'luma-tiled.mkv');
  // fp32: int8's rounding moves the tiled frames with history to 53-54 dB, too close to what tiles off the motion grid give
  const common = ['-i', input, '--change-threshold', 'off', '--precision', 'fp32', '-c:v', 'ffv1', '-v'];
  const a = runCli([...common, '-o', whole]);
  t.equal(a.code, 0, a.stderr);
  const b = runCli([...common, '-o', tiled, '--tile', '99', '--tile-overlap', '32']);
  t.equal(b.code, 0, b.stderr);
  t.match(b.stderr, /tiling 160x96 into 2 tiles of 98x96 \(overlap 32, starting at multiples of 2\), in model causal-sr/);
  const x = decodeYuv420(whole, 640, 384);
  const y = decodeYuv420(tiled, 640, 384);
  t.equal(y.length, 6, 'every frame written');
  t.equal(y.length, x.length, 'as many frames as untiled');
  t.ok(x[0]!.y.equals(y[0]!.y), 'frame 0 (no history): Y identical to the untiled run');
  for (let i = 0; i < x.length; i++) {
    t.ok(x[i]!.chroma.equals(y[i]!.chroma), `frame ${i}: chroma identical (swscale scales the whole picture)`);
    // with history, the motion estimate near a cut edge sees less picture, and the nearest-pixel warp
    // turns a small change of it into a whole pixel on an edge: close, not equal (62-69 dB here; tiles
    // at odd pixels, off the motion estimator's grid, gave 46-50)
    const p = psnrPlane(x[i]!.y, y[i]!.y);
    t.ok(p >= 55, `frame ${i}: Y at ${p.toFixed(1)} dB of the untiled run (≥ 55)`);
  }
  t.ok(x.some((f, i) => !f.y.equals(y[i]!.y)), 'and the graph did run on tiles (a frame with history differs a little)');
  const budget = runCli(['-i', input, '-c:v', 'ffv1', '-o', join(tmp, 'luma-budget.mkv'), '--max-memory', '12M', '-v']);
  t.equal(budget.code, 0, budget.stderr);
  const planned = /over --max-memory 12\.0 MiB: upscaling in tiles of ([\dx, ]+)\n/.exec(budget.stderr)?.[1];
  t.ok(planned, 'the memory probe sizes the tiles of a luma model too');
  t.equal(planned, /into \d+ tiles of ([\dx, ]+) \(overlap/.exec(budget.stderr)?.[1], `the info line names the tiles as cut (aligned to the motion grid), as -v does: ${planned}`);
  t.equal(decodeYuv420(join(tmp, 'luma-budget.mkv'), 640, 384).length, 6, 'every frame written under the budget');
});

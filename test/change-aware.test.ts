import t from 'tap';
import { memoryLogger } from '../src/core/log.js';
import { loadModel } from '../src/models/load.js';
import { CHANGE_DEFAULTS, ChangeTracker, pastePlanes } from '../src/inference/change-aware.js';
import { cropPlanes } from '../src/inference/tile-pixels.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRgb, fixture } from './helpers/media.js';
import { runCli } from './helpers/cli.js';
import { writeHistoryModel } from './helpers/history-model.js';
import { cpuFeatures } from '../src/inference/cpu-features.js';

/** What --precision auto loads for causal-sr x4 on this machine (int8 where the CPU has 8-bit dot products). */
const AUTO_X4 = cpuFeatures().int8DotProduct ? 'int8' : 'fp32';

const W = 128;
const H = 96;
const MOVING = 8;
/** The corner box moves on these frames of the frozen half, then nothing changes at all. */
const BOX_FROM = 10;
const BOX_TO = 13;
const FRAMES = 22;

/**
 * 128x96: testsrc2 moving for 8 frames, then its last frame frozen; on frames 10..13 a 6x6 box moves in
 * the bottom-right corner (x 104..116, y 80), and from frame 14 on every frame is the same.
 */
function clip(): string {
  return fixture('change-aware-128x96.nut', (o) => [
    '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25:duration=${MOVING / 25}`,
    '-f', 'lavfi', '-i', `color=c=white:size=6x6:rate=25`,
    '-filter_complex', `[0:v]tpad=stop_mode=clone:stop=${FRAMES - MOVING}[bg];[bg][1:v]overlay=x='if(between(n,${BOX_FROM},${BOX_TO}),104+(n-${BOX_FROM})*4,-50)':y=80:eval=frame:shortest=1,format=rgb24`,
    '-frames:v', String(FRAMES), '-c:v', 'rawvideo', '-f', 'nut', o,
  ]);
}

/**
 * The committed default model (causal-sr, luma) over the clip through the CLI; its frames as ffmpeg
 * decodes them to RGB. fp32: the tolerances below are its settling on a frozen picture (int8's full
 * compute never settles; see the default-run test for what reuse makes of that).
 */
function upscale(dir: string, threshold: string): { frames: Buffer[]; stderr: string } {
  const out = join(dir, `out-${threshold}.mkv`);
  const r = runCli(['-i', clip(), '-o', out, '-c:v', 'ffv1', '--precision', 'fp32', '--change-threshold', threshold]);
  if (r.code !== 0) throw new Error(`stream-sr --change-threshold ${threshold} failed: ${r.stderr}`);
  return { frames: decodeRgb(out).frames, stderr: r.stderr };
}

const load = (changeThreshold?: number) =>
  loadModel('causal-sr', { scale: 4, precision: 'fp32', ...(changeThreshold !== undefined ? { changeThreshold } : {}), session: { device: { device: 'cpu' }, threads: 2, log: memoryLogger() } });

/** Max and mean absolute difference in 8-bit levels over the output pixels (packed RGB, x, y at x4) where `inside` holds. */
function diff(a: Uint8Array, b: Uint8Array, inside: (x: number, y: number) => boolean): { max: number; mean: number } {
  const w = W * 4;
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H * 4; y++) {
      for (let x = 0; x < w; x++) {
        if (!inside(x, y)) continue;
        const i = 3 * (y * w + x) + c;
        const d = Math.abs(a[i]! - b[i]!);
        max = Math.max(max, d);
        sum += d;
        n++;
      }
    }
  }
  return { max, mean: sum / n };
}

t.test('change-aware compute on a clip whose second half is static', async (t) => {
  const { frames: rgb, width, height } = decodeRgb(clip());
  t.equal(rgb.length, FRAMES);
  t.same([width, height], [W, H]);
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-change-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.ok(rgb[MOVING]!.equals(rgb[MOVING - 1]!) && !rgb[MOVING - 1]!.equals(rgb[MOVING - 2]!), 'the clip freezes after frame 7');
  t.ok(!rgb[BOX_FROM]!.equals(rgb[BOX_FROM - 1]!) && rgb[BOX_TO + 1]!.equals(rgb[FRAMES - 1]!), 'the corner box moves on frames 10..13 only');

  const full = upscale(dir, 'off').frames;
  const changed = upscale(dir, '0');
  const change = changed.frames;
  const report = /change-aware: .*/.exec(changed.stderr)?.[0] ?? '';
  t.match(report, /^change-aware: \d+% of tiles reused, model run on \d+% of the picture; \d+ of 22 frames without a model run, \d+ computed whole$/, `the summary line: ${report}`);

  const settled = MOVING + CHANGE_DEFAULTS.settle;
  // LR pixels at least 32 away from the corner box's path (the motion estimator's receptive field)
  const far = (x: number, y: number) => x < 4 * (104 - 32) || y < 4 * (80 - 32);
  const everywhere = () => true;
  for (let i = 0; i < FRAMES; i++) {
    const all = diff(change[i]!, full[i]!, everywhere);
    if (i < MOVING) {
      t.equal(all.max, 0, `frame ${i} (moving): computed whole, identical`);
    } else if (i >= settled) {
      // the recurrent model still nudges a few pixels of a frozen picture for a dozen frames (a level at a
      // time) before its fixed point; reuse stops that after CHANGE_DEFAULTS.settle frames
      const d = diff(change[i]!, full[i]!, far);
      t.ok(d.max <= 3 && d.mean <= 0.02, `frame ${i}: where nothing changed, within 3 levels (mean 0.02) of full compute (max ${d.max}, mean ${d.mean.toFixed(4)})`);
    }
    // the box's windows: the model on a window with 8 px of context, the rest reused
    t.ok(all.mean < 0.25 && all.max <= 24, `frame ${i}: the whole frame within mean 0.25 / max 24 levels of full compute (mean ${all.mean.toFixed(3)}, max ${all.max})`);
  }
  const reused = Number(/(\d+)% of tiles reused/.exec(report)?.[1]);
  const idle = Number(/(\d+) of 22 frames without a model run/.exec(report)?.[1]);
  t.ok(reused >= 40, `most tiles of the frozen half are reused (${reused}%)`);
  t.ok(idle >= FRAMES - (BOX_TO + 1 + CHANGE_DEFAULTS.settle), `frames after the box stops and settles run no model (${idle})`);
});

t.test('windows: crop and paste put each pixel back where it came from', async (t) => {
  const w = 20;
  const h = 12;
  const src = Float32Array.from({ length: 2 * w * h }, (_, i) => i);
  const win = { compute: { x: 4, y: 2, w: 10, h: 8 }, paste: { x: 6, y: 4, w: 5, h: 3 } };
  const crop = cropPlanes(src, w, h, 2, win.compute);
  t.equal(crop[0], 2 * w + 4, 'first value of the crop');
  t.equal(crop[10 * 8], w * h + 2 * w + 4, 'second plane');
  const dst = new Float32Array(src.length);
  pastePlanes(dst, w, h, 2, win, crop);
  for (let c = 0; c < 2; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = c * w * h + y * w + x;
        const inPaste = x >= 6 && x < 11 && y >= 4 && y < 7;
        if (dst[i] !== (inPaste ? src[i] : 0)) return t.fail(`plane ${c} (${x},${y}): ${dst[i]}`);
      }
    }
  }
  const scaled = cropPlanes(src, w / 2, h / 2, 2, { x: 1, y: 1, w: 3, h: 2 }, 2);
  t.equal(scaled[0], 2 * w + 2, 'x2 crop starts at (2,2)');
  t.end();
});

t.test('the tracker: exact when nothing changed, windows around a change, whole frame on a big change', async (t) => {
  const tracker = new ChangeTracker(128, 96, 1, { ...CHANGE_DEFAULTS, threshold: 0, settle: 0 });
  const a = new Float32Array(128 * 96).fill(0.5);
  t.equal(tracker.plan(a, undefined, undefined).plan.kind, 'full', 'the first frame is computed whole');
  const s = tracker.initialState().settle.fill(0);
  t.equal(tracker.plan(a, a.slice(), { settle: s }).plan.kind, 'reuse', 'an identical frame reuses the output');
  const b = a.slice();
  b[20 * 128 + 30] = 0.5 + 1 / 255;
  const p = tracker.plan(b, a, { settle: s }).plan;
  t.equal(p.kind, 'windows', 'one level changed: a window');
  if (p.kind === 'windows') {
    t.equal(p.windows.length, 1);
    // the tile at 24,16 and 6 px around it: six 3x3 convolutions from input to output
    t.same(p.windows[0]!.paste, { x: 18, y: 10, w: 20, h: 20 }, 'the changed tile and 6 px around it (the convolutions\' receptive field) are pasted');
    t.same(p.windows[0]!.compute, { x: 10, y: 2, w: 36, h: 36 }, 'computed with 8 px of context');
  }
  const blurred = new ChangeTracker(128, 96, 1, { ...CHANGE_DEFAULTS, threshold: 4, settle: 0 });
  t.equal(blurred.plan(b, a, { settle: s }).plan.kind, 'reuse', 'below the threshold: reused');
  const c = a.map((v, i) => (i % 128 < 80 ? 0 : v));
  t.equal(blurred.plan(c, a, { settle: s }).plan.kind, 'full', 'more than half the frame changed: computed whole');
  t.end();
});

t.test('under --tile the luma model stays change-aware: windows cut from the whole frame, frames computed whole in tiles', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-change-tiled-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = (threshold: string) => {
    const out = join(dir, `tiled-${threshold}.mkv`);
    const r = runCli(['-i', clip(), '-o', out, '-c:v', 'ffv1', '--precision', 'fp32', '--change-threshold', threshold, '--tile', '72', '--tile-overlap', '16', '-v']);
    t.equal(r.code, 0, r.stderr);
    return { frames: decodeRgb(out).frames, stderr: r.stderr };
  };
  const full = run('off');
  const changed = run('0');
  t.match(changed.stderr, /tiling 128x96 into 4 tiles of 72x72 \(overlap 16, starting at multiples of 2\), in model causal-sr/, 'the frame is tiled');
  t.match(changed.stderr, /→ causal-sr x4 fp32 change-aware \(threshold 0\) →/, 'and change-aware on the start line');
  const report = /change-aware: .*/.exec(changed.stderr)?.[0] ?? '';
  const idle = Number(/(\d+) of 22 frames without a model run/.exec(report)?.[1]);
  t.ok(idle >= FRAMES - (BOX_TO + 1 + CHANGE_DEFAULTS.settle), `frames after the box stops and settles run no model: ${report}`);
  t.equal(changed.frames.length, FRAMES, 'every frame written');
  const far = (x: number, y: number) => x < 4 * (104 - 32) || y < 4 * (80 - 32);
  for (let i = 0; i < FRAMES; i++) {
    const all = diff(changed.frames[i]!, full.frames[i]!, () => true);
    if (i < MOVING) t.equal(all.max, 0, `frame ${i} (moving): computed whole in the same tiles, identical`);
    else if (i >= MOVING + CHANGE_DEFAULTS.settle) {
      const d = diff(changed.frames[i]!, full.frames[i]!, far);
      t.ok(d.max <= 3 && d.mean <= 0.02, `frame ${i}: where nothing changed, within 3 levels (mean 0.02) of tiled full compute (max ${d.max}, mean ${d.mean.toFixed(4)})`);
    }
  }
  // an RGB history model is given float RGB tiles, each its own frame: no change-aware compute there
  const rgbModel = writeHistoryModel(dir, 4, 'history-rgb', 3);
  const rgbRun = (tile: string[]) => runCli(['-i', clip(), '-o', join(dir, `rgb-${tile.length}.mkv`), '--model', rgbModel, '-c:v', 'ffv1', '-v', ...tile]);
  const whole = rgbRun([]);
  t.match(whole.stderr, /history-rgb x4 change-aware \(threshold 6\)/, 'an RGB history model is change-aware on whole frames');
  const tiles = rgbRun(['--tile', '72', '--tile-overlap', '16']);
  t.equal(tiles.code, 0, tiles.stderr);
  t.match(tiles.stderr, /tiling 128x96 into 4 tiles of 72x72/);
  t.notMatch(tiles.stderr, /change-aware \(|change-aware:/, 'but not in RGB tiles');
});

t.test('change-aware compute is for history models: the start line says it, single-frame models run whole', async (t) => {
  const causal = await load(6);
  t.equal(causal.detail, 'fp32 change-aware (threshold 6)', 'causal-sr: on the start line, after its precision');
  await causal.dispose();
  const off = await load();
  t.equal(off.detail, 'fp32', 'off: only the precision');
  await off.dispose();
  const single = await loadModel('esrgan-slim', { scale: 4, changeThreshold: 6, session: { device: { device: 'cpu' }, threads: 1, log: memoryLogger() } }).catch(() => undefined);
  if (!single) return t.skip('esrgan-slim is not installed (make models)');
  t.equal(single.detail, undefined, 'esrgan-slim (no history, a wider receptive field): not change-aware');
  t.equal(single.report?.(), undefined, 'and no summary line');
  await single.dispose();
});

t.test('the command line: change-aware by default, on the start line and in the summary; off runs every frame whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-change-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const on = runCli(['-i', clip(), '-o', join(dir, 'on.mkv'), '-c:v', 'ffv1']);
  t.equal(on.code, 0, on.stderr);
  t.match(on.stderr, new RegExp(`→ causal-sr x4 ${AUTO_X4} change-aware \\(threshold 6\\) →`), `the start line says it, with the default threshold (${AUTO_X4}: this CPU's auto precision)`);
  // with the default weights (int8 too, whose full compute never settles), reuse freezes what does not change
  const frames = decodeRgb(join(dir, 'on.mkv')).frames;
  const still = BOX_TO + 1 + CHANGE_DEFAULTS.settle;
  t.ok(still < FRAMES - 1, `the clip has frames to compare after the settle frames (${still}..${FRAMES - 1})`);
  t.ok(frames.slice(still + 1).every((f) => f.equals(frames[still]!)), `frames ${still}..${FRAMES - 1}, where nothing changes, are the same picture`);
  const m = /change-aware: (\d+)% of tiles reused, model run on (\d+)% of the picture; (\d+) of 22 frames without a model run/.exec(on.stderr);
  t.ok(m, 'the summary says how much was skipped');
  t.ok(Number(m?.[1]) > 0 && Number(m?.[2]) < 100 && Number(m?.[3]) > 0, `some tiles and whole frames skipped: ${m?.[0]}`);
  const off = runCli(['-i', clip(), '-o', join(dir, 'off.mkv'), '-c:v', 'ffv1', '--change-threshold', 'off']);
  t.equal(off.code, 0, off.stderr);
  t.notMatch(off.stderr, /change-aware \(|change-aware:/, 'off: not on the start line, no summary');
  const bad = runCli(['-i', clip(), '-o', join(dir, 'bad.mkv'), '--change-threshold', 'lots']);
  t.equal(bad.code, 2, 'a bad value is a usage error');
  t.match(bad.stderr, /--change-threshold lots: must be 'off' or a number of 8-bit levels/);
});

t.test('a luma model (Y planes only, chroma by swscale): the same windows on one plane', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-change-luma-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a model whose output is 0.5 up(0.5 frame + 0.5 previousFrame) + 0.5 previousOutput: its field is
  // a pixel or two, so windows with 8 px of context compute exactly what the whole frame would
  const model = writeHistoryModel(dir, 4, 'history-luma', 1);
  // 64x48 yuv420p: a frozen picture, with a 6x6 box moving in the top-left corner on frames 7..10
  const input = join(dir, 'in.nut');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25', '-f', 'lavfi', '-i', 'color=c=white:size=6x6:rate=25',
    '-filter_complex', "[0:v]trim=end_frame=1,tpad=stop_mode=clone:stop=19[bg];[bg][1:v]overlay=x='if(between(n,8,11),2+(n-8)*3,-50)':y=2:eval=frame:shortest=1,format=yuv420p",
    '-frames:v', '20', '-c:v', 'rawvideo', '-f', 'nut', input]);
  t.equal(made.status, 0, made.stderr?.toString());
  const frames = decodeRgb(input).frames;
  t.same(frames.map((f) => f.equals(frames[0]!)), frames.map((_, i) => i < 7 || i > 10), 'the input changes on frames 7..10 only');
  const outputs: Record<string, Buffer[]> = {};
  for (const mode of ['off', '0']) {
    const out = join(dir, `out-${mode}.nut`);
    const r = runCli(['-i', input, '-o', out, '--model', model, '-c:v', 'rawvideo', '--change-threshold', mode]);
    t.equal(r.code, 0, r.stderr);
    if (mode === '0') {
      t.match(r.stderr, /formats: yuv420p → history-luma → yuv420p/, 'native Y in and out');
      t.match(r.stderr, /change-aware: \d+% of tiles reused/, `the summary: ${/change-aware:.*/.exec(r.stderr)?.[0]}`);
    }
    outputs[mode] = decodeRgb(out).frames;
  }
  const [full, change] = [outputs.off!, outputs['0']!];
  t.equal(change.length, 20);
  // frames 0..5: the first frame and its five settling frames are computed whole
  for (let i = 0; i <= 5; i++) t.ok(change[i]!.equals(full[i]!), `frame ${i}: computed whole, identical`);
  // frame 6: nothing changed, the output of frame 5 is kept (full compute still moves toward its fixed point)
  t.ok(change[6]!.equals(change[5]!), 'frame 6: frame 5 again, no model run');
  // frames 7..10: the box's windows carry the change
  t.notOk(change[7]!.equals(change[6]!), 'frame 7: the box shows');
  // the right half (40+ px from the box) is never touched after frame 5
  const w = 64 * 4;
  const rightHalfSame = (a: Buffer, b: Buffer) => {
    for (let y = 0; y < 48 * 4; y++) for (let x = 40 * 4; x < w; x++) for (let c = 0; c < 3; c++) if (a[3 * (y * w + x) + c] !== b[3 * (y * w + x) + c]) return false;
    return true;
  };
  t.ok(change.slice(6).every((f) => rightHalfSame(f, change[5]!)), 'far from the box the output is frame 5\'s on every later frame');
});

import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { clips, fixture, sharedData } from './helpers/media.js';
import { runCli } from './helpers/cli.js';
import { ssimPlane } from '../src/metrics/ssim.js';
import { lumaPlane } from '../src/metrics/planes.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-eval-'));

interface Report {
  frames: number;
  crop: number;
  perFrame: Array<{ n: number; psnrY: number | null; ssimY: number; psnrRgb: number | null; ssimRgb: number }>;
  mean: { psnrY: number | null; ssimY: number; psnrRgb: number | null; ssimRgb: number; pooledPsnrY: number | null };
  flicker: { test: number; ref: number; difference: number } | null;
}

function evalJson(args: string[]): Report {
  const r = runCli(['eval', '--json', ...args]);
  if (r.code !== 0) throw new Error(`eval failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Report;
}

/**
 * FFmpeg's own per-frame figures for the same pair: Y through `scale=out_range=tv,format=gray`
 * (BT.601 limited range; plain format=gray would be full range), RGB through gbrp. PSNR is taken
 * from the MSE in the stats file, which has more digits than the PSNR column.
 */
function ffmpegScores(test: string, ref: string, crop: number, cpuFlags: string[] = []): Array<{ psnrY: number; ssimY: number; psnrRgb: number; ssimRgb: number }> {
  const cut = crop ? `crop=iw-${2 * crop}:ih-${2 * crop}:${crop}:${crop},` : '';
  const files = ['psnr-y', 'ssim-y', 'psnr-rgb', 'ssim-rgb'].map((n) => join(tmp, `${n}-${crop}.txt`));
  const graph = [
    `[0]${cut}split=4[ty0][ty1][tc0][tc1];[1]${cut}split=4[ry0][ry1][rc0][rc1]`,
    `[ty0]scale=out_range=tv,format=gray[ty0g];[ry0]scale=out_range=tv,format=gray[ry0g];[ty0g][ry0g]psnr=stats_file=${files[0]}`,
    `[ty1]scale=out_range=tv,format=gray[ty1g];[ry1]scale=out_range=tv,format=gray[ry1g];[ty1g][ry1g]ssim=stats_file=${files[1]}`,
    `[tc0]format=gbrp[tc0p];[rc0]format=gbrp[rc0p];[tc0p][rc0p]psnr=stats_file=${files[2]}`,
    `[tc1]format=gbrp[tc1p];[rc1]format=gbrp[rc1p];[tc1p][rc1p]ssim=stats_file=${files[3]}`,
  ].join(';');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', ...cpuFlags, '-i', test, '-i', ref, '-filter_complex', graph, '-f', 'null', '-'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  const lines = files.map((f) => readFileSync(f, 'utf8').trim().split('\n'));
  const field = (line: string, name: string): number => Number(new RegExp(`${name}:([0-9.]+)`).exec(line)![1]);
  const psnr = (mse: number): number => 10 * Math.log10((255 * 255) / mse);
  return lines[0]!.map((_, i) => ({
    psnrY: psnr(field(lines[0]![i]!, 'mse_avg')),
    ssimY: field(lines[1]![i]!, 'All'),
    psnrRgb: psnr(field(lines[2]![i]!, 'mse_avg')),
    ssimRgb: field(lines[3]![i]!, 'All'),
  }));
}

/** The real pair: Vid4 walk LR upscaled x4 by ffmpeg's bicubic (lossless RGB), against its GT. */
function walkPair(frames?: number): { test: string; ref: string } | undefined {
  const lr = sharedData('vid4_walk', 'lr_x4.mkv');
  const gt = sharedData('vid4_walk', 'gt.mkv');
  if (!lr || !gt) return undefined;
  const limit = frames ? ['-frames:v', String(frames)] : [];
  const tag = frames ?? 'all';
  const test = fixture(`walk-ffmpeg-bicubic-${tag}.mkv`, (o) => ['-i', lr, ...limit, '-vf', 'scale=iw*4:ih*4:flags=bicubic', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-f', 'matroska', o]);
  const ref = frames ? fixture(`walk-gt-${tag}.mkv`, (o) => ['-i', gt, ...limit, '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-f', 'matroska', o]) : gt;
  return { test, ref };
}

/** The few assertions the comparison needs (tap's Test type is not exported in a usable form). */
interface Asserts {
  ok(cond: boolean, message: string): void;
  equal(a: unknown, b: unknown, message: string): void;
  comment(message: string): void;
}

function compareWithFfmpeg(t: Asserts, pair: { test: string; ref: string }, crop: number, cpuFlags: string[] = []): void {
  const ours = evalJson(['--ref', pair.ref, '--test', pair.test, '--crop', String(crop)]);
  const theirs = ffmpegScores(pair.test, pair.ref, crop, cpuFlags);
  t.equal(ours.frames, theirs.length, `${theirs.length} frames scored by both`);
  const worst = { psnrY: 0, ssimY: 0, psnrRgb: 0, ssimRgb: 0 };
  ours.perFrame.forEach((f, i) => {
    for (const k of Object.keys(worst) as Array<keyof typeof worst>) worst[k] = Math.max(worst[k], Math.abs((f[k] as number) - theirs[i]![k]));
  });
  const ffMean = (k: keyof typeof worst): number => theirs.reduce((s, f) => s + f[k], 0) / theirs.length;
  t.comment(`crop ${crop}: largest per-frame difference from ffmpeg: PSNR-Y ${worst.psnrY.toFixed(5)} dB, SSIM-Y ${worst.ssimY.toFixed(6)}, PSNR-RGB ${worst.psnrRgb.toFixed(5)} dB, SSIM-RGB ${worst.ssimRgb.toFixed(6)}`);
  t.comment(`crop ${crop}: means ours/ffmpeg: PSNR-Y ${ours.mean.psnrY?.toFixed(4)}/${ffMean('psnrY').toFixed(4)}, SSIM-Y ${ours.mean.ssimY.toFixed(5)}/${ffMean('ssimY').toFixed(5)}, PSNR-RGB ${ours.mean.psnrRgb?.toFixed(4)}/${ffMean('psnrRgb').toFixed(4)}, SSIM-RGB ${ours.mean.ssimRgb.toFixed(5)}/${ffMean('ssimRgb').toFixed(5)}`);
  t.ok(worst.psnrY <= 0.01 && worst.psnrRgb <= 0.01, `PSNR per frame within 0.01 dB of ffmpeg (Y ${worst.psnrY.toFixed(5)}, RGB ${worst.psnrRgb.toFixed(5)})`);
  t.ok(worst.ssimY <= 0.001 && worst.ssimRgb <= 0.001, `SSIM per frame within 0.001 of ffmpeg (Y ${worst.ssimY.toFixed(6)}, RGB ${worst.ssimRgb.toFixed(6)})`);
  t.ok(Math.abs(ours.mean.psnrY! - ffMean('psnrY')) <= 0.01 && Math.abs(ours.mean.ssimY - ffMean('ssimY')) <= 0.001, 'means agree too');
}

t.test('PSNR and SSIM match ffmpeg psnr/ssim on a real pair (Vid4 walk, ffmpeg bicubic x4 vs GT)', async (t) => {
  const pair = walkPair();
  if (!pair) return t.skip('../shared/data/vid4_walk is absent: skipping the comparison with ffmpeg');
  compareWithFfmpeg(t, pair, 0);
});

t.test('--crop leaves the same border out as ffmpeg crop does', async (t) => {
  const pair = walkPair(8);
  if (!pair) return t.skip('../shared/data/vid4_walk is absent');
  // 712 px wide: 177 windows per row, one past a multiple of 4. FFmpeg 5.1's SSE4 ssim_end_line
  // then drops the row's last window and counts one beyond it (its tail mask is off for a
  // remainder of 1), so SSIM is compared with FFmpeg's C code (-cpuflags 0), which has no such slip.
  compareWithFfmpeg(t, pair, 4, ['-cpuflags', '0']);
  const simd = ffmpegScores(pair.test, pair.ref, 4);
  const c = ffmpegScores(pair.test, pair.ref, 4, ['-cpuflags', '0']);
  const slip = Math.max(...simd.map((f, i) => Math.abs(f.ssimRgb - c[i]!.ssimRgb)));
  t.comment(`ffmpeg's SIMD SSIM differs from its C SSIM by up to ${slip.toFixed(6)} at this width`);
});

t.test('identical inputs: infinite PSNR (null in JSON), SSIM 1, no flicker', async (t) => {
  const pair = walkPair(8);
  if (!pair) return t.skip('../shared/data/vid4_walk is absent');
  const r = evalJson(['--ref', pair.ref, '--test', pair.ref]);
  t.equal(r.frames, 8);
  t.ok(r.perFrame.every((f) => f.psnrY === null && f.psnrRgb === null && f.ssimY === 1 && f.ssimRgb === 1), 'every frame perfect');
  t.equal(r.flicker?.difference, 0);
  t.ok(r.flicker!.ref > 1, `the GT itself changes between frames (${r.flicker!.ref.toFixed(3)} levels)`);
  const text = runCli(['eval', '--ref', pair.ref, '--test', pair.ref]);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout.toString(), /mean\s+inf\s+1\.000000\s+inf\s+1\.000000/);
  t.match(text.stdout.toString(), /temporal flicker: \+0\.000/);
});

t.test('a smoothed output shows negative flicker against the GT, a noisy one positive', async (t) => {
  const pair = walkPair(8);
  if (!pair) return t.skip('../shared/data/vid4_walk is absent');
  const noisy = fixture('walk-gt-8-noise.mkv', (o) => ['-i', pair.ref, '-vf', 'noise=alls=20:allf=t', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-f', 'matroska', o]);
  t.ok(evalJson(['--ref', pair.ref, '--test', pair.test]).flicker!.difference < 0, 'bicubic upscale: smoother than the GT');
  t.ok(evalJson(['--ref', pair.ref, '--test', noisy]).flicker!.difference > 1, 'temporal noise: flickers');
});

t.test('frame counts and sizes must match: a clear error, exit 2', async (t) => {
  const pair = walkPair(8);
  const full = walkPair();
  if (!pair || !full) return t.skip('../shared/data/vid4_walk is absent');
  const r = runCli(['eval', '--ref', full.ref, '--test', pair.test]);
  t.equal(r.code, 2);
  t.match(r.stderr, /frame counts differ: --test .*walk-ffmpeg-bicubic-8\.mkv has 8 frames, --ref .*gt\.mkv has 47/);
  const lr = sharedData('vid4_walk', 'lr_x4.mkv')!;
  const s = runCli(['eval', '--ref', full.ref, '--test', lr]);
  t.equal(s.code, 2);
  t.match(s.stderr, /sizes differ: --test .*lr_x4\.mkv is 180x120, --ref .*gt\.mkv is 720x480/);
  const c = runCli(['eval', '--ref', pair.ref, '--test', pair.test, '--crop', '238']);
  t.equal(c.code, 2);
  t.match(c.stderr, /--crop 238 leaves less than 8x8 of a 720x480 picture/);
  const m = runCli(['eval', '--ref', join(tmp, 'missing.mkv'), '--test', pair.test]);
  t.equal(m.code, 2);
  t.match(m.stderr, /missing\.mkv/);
});

t.test('--html in a missing folder is refused before any scoring: one line, exit 2', async (t) => {
  const clip = clips.small();
  const r = runCli(['eval', '--ref', clip, '--test', clip, '--html', join(tmp, 'no-such-folder', 'r.html')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^stream-sr: --html .*no-such-folder\/r\.html: folder .*no-such-folder does not exist\n$/);
  t.equal(r.stdout.length, 0, 'nothing scored');
  const dir = runCli(['eval', '--ref', clip, '--test', clip, '--html', tmp]);
  t.equal(dir.code, 2);
  t.match(dir.stderr, /: is a directory\n$/);
});

t.test('folders of PNG frames (what `stream-sr frames` writes) score like the video they came from', async (t) => {
  const pair = walkPair(8);
  if (!pair) return t.skip('../shared/data/vid4_walk is absent');
  const dirs = { ref: join(tmp, 'gt-pngs'), test: join(tmp, 'test-pngs') };
  for (const [k, dir] of Object.entries(dirs)) {
    mkdirSync(dir);
    spawnSync('ffmpeg', ['-v', 'error', '-i', pair[k as 'ref' | 'test'], '-pix_fmt', 'rgb24', join(dir, 'frame_%04d.png')]);
  }
  const fromFolders = evalJson(['--ref', dirs.ref, '--test', dirs.test]);
  const fromVideos = evalJson(['--ref', pair.ref, '--test', pair.test]);
  t.equal(fromFolders.frames, 8);
  t.same(fromFolders.perFrame, fromVideos.perFrame, 'the same scores, frame by frame');
  const mixed = runCli(['eval', '--ref', dirs.ref, '--test', pair.test]);
  t.equal(mixed.code, 0, 'a folder against a video works too');
  const short = join(tmp, 'gt-pngs-3');
  mkdirSync(short);
  spawnSync('ffmpeg', ['-v', 'error', '-i', pair.ref, '-frames:v', '3', '-pix_fmt', 'rgb24', join(short, 'frame_%04d.png')]);
  const r = runCli(['eval', '--ref', short, '--test', pair.test]);
  t.equal(r.code, 2);
  t.match(r.stderr, /frame counts differ: --test .* has 8 frames, --ref .*gt-pngs-3 has 3/);
});

t.test('SSIM follows ffmpeg on its own terms: 8x8 windows every 4 pixels, border beyond multiples of 4 unused', async (t) => {
  const w = 16;
  const h = 12;
  const a = new Uint8Array(w * h).map((_, i) => (i * 37) % 256);
  const b = Uint8Array.from(a);
  t.equal(ssimPlane(a, b, w, h), 1, 'identical planes score 1');
  b[w * h - 1] = 0; // 16x12 is exactly 4x3 blocks: the last pixel is inside
  t.ok(ssimPlane(a, b, w, h) < 1, 'a change inside the block grid counts');
  const c = new Uint8Array(18 * 13).map((_, i) => (i * 37) % 256);
  const d = Uint8Array.from(c);
  d[18 * 13 - 1] = 255 - d[18 * 13 - 1]!;
  t.equal(ssimPlane(c, d, 18, 13), 1, 'a change in the 13th row / 18th column (outside 4x4 blocks) is ignored');
  const y = lumaPlane(Uint8Array.from([255, 255, 255, 0, 0, 0, 255, 0, 0]), { width: 3, height: 1, border: 0 });
  t.same(Array.from(y), [235, 16, 81], 'BT.601 limited-range luma: white 235, black 16, red 81 (16 + 65.481)');
});

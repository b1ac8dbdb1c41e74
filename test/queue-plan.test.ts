// Chunk plans: cuts at keyframes only, chunks of at least the asked length, every frame in exactly
// one chunk, warm-up frames taken from before the start and decoded from the keyframe before them.
import t from 'tap';
import { planChunks } from '../src/queue/plan.js';

// 25 fps in 1/12800 (mp4's time base): 512 per frame; 100 frames, keyframes every 25 and at 60
const tb = { num: 1, den: 12800 };
const pts = Array.from({ length: 100 }, (_, i) => i * 512);
const keyframes = [0, 25, 50, 60, 75].map((i) => i * 512);
const scan = { timeBase: tb, pts, keyframes };

t.test('every frame is written by exactly one chunk, each chunk starting at a keyframe', async (t) => {
  const plans = planChunks(scan, 1, 8);
  t.same(plans.map((p) => p.writeFrom / 512), [0, 25, 50, 75], 'the keyframe at 60 is under a second after 50: no cut there');
  t.same(plans.map((p) => p.frames), [25, 25, 25, 25]);
  t.equal(plans.reduce((n, p) => n + p.frames, 0), pts.length);
  for (const p of plans) t.ok(keyframes.includes(p.writeFrom), `chunk ${p.index} starts at a keyframe`);
  t.same(plans.map((p) => p.range.until === undefined ? undefined : p.range.until / 512), [25, 50, 75, undefined]);
});

t.test('warm-up: the frames before the start, decoded from the keyframe before them', async (t) => {
  const plans = planChunks(scan, 1, 8);
  t.same(plans.map((p) => p.warmupFrames), [0, 8, 8, 8]);
  t.same(plans.map((p) => p.range.from / 512), [0, 17, 42, 67]);
  t.same(plans.map((p) => p.range.seekTo / 512), [0, 0, 25, 60], 'the last keyframe at or before the warm-up start');
  const long = planChunks(scan, 1, 30);
  t.same(long.map((p) => p.range.from / 512), [0, 0, 20, 45], 'no further back than the first frame');
  t.same(long.map((p) => p.warmupFrames), [0, 25, 30, 30]);
});

t.test('longer chunks, and a file with one keyframe is one chunk', async (t) => {
  t.same(planChunks(scan, 2, 0).map((p) => p.writeFrom / 512), [0, 50]);
  const one = planChunks({ ...scan, keyframes: [0] }, 1, 8);
  t.equal(one.length, 1);
  t.equal(one[0]!.frames, 100);
  t.same(planChunks({ ...scan, pts: [], keyframes: [] }, 1, 8), []);
});

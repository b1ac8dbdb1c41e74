import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeVideoFrames } from './helpers/media.js';
import { runCliAsync } from './helpers/live-cli.js';
import { startRtspCamera } from './helpers/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-policy-'));

/** "(latency p50 .. ms p95 .. ms, N in, M dropped, F of T by the fallback model)" → numbers. */
function counts(stderr: string) {
  const line = /(\d+) frames written to .*\((.*)\)\s*$/m.exec(stderr);
  const num = (re: RegExp): number => Number(re.exec(line?.[2] ?? '')?.[1] ?? NaN);
  return {
    out: Number(line?.[1]),
    in: num(/(\d+) in\b/),
    dropped: num(/(\d+) dropped/),
    fallback: num(/(\d+) of \d+ by the fallback/),
    viaModels: num(/\d+ of (\d+) by the fallback/),
    p95: num(/p95 (\d+) ms/),
    queuePeak: Number(/live queue peak (\d+)/.exec(stderr)?.[1]),
    rssMb: Number(/peak RSS (\d+) MB/.exec(stderr)?.[1]),
  };
}

/** Seconds between consecutive output frames. */
function intervals(path: string): number[] {
  const pts = probeVideoFrames(path).map((f) => f.ptsTime);
  return pts.slice(1).map((p, i) => p - pts[i]!);
}

async function camera(t: Tap.Test) {
  const cam = await startRtspCamera();
  t.teardown(() => cam.server.stop());
  return cam.url;
}

t.test('drop: a model slower than the source skips frames, counts them, keeps the kept frames\' timestamps', async (t) => {
  const out = join(tmp, 'drop.mkv');
  // the model takes 100 ms a frame (10 fps) against a 25 fps camera
  const r = await runCliAsync(['-i', await camera(t), '-o', out, '--model', 'bicubic', '--scale', '2', '--live-policy', 'drop', '--inject', 'modelDelayMs=100,eosAfter=30', '-v']);
  t.equal(r.code, 0, r.stderr);
  const c = counts(r.stderr);
  t.equal(c.out, 30, '30 frames written');
  t.ok(c.dropped > 10, `frames were dropped (${c.dropped} of ${c.in})`);
  const pending = c.in - c.dropped - c.out;
  t.ok(pending >= 0 && pending <= 3, `in = out + dropped + the few still in flight at the end (${c.in} = ${c.out} + ${c.dropped} + ${pending})`);
  t.equal(probeVideoFrames(out).length, 30, 'the file holds the 30 kept frames');
  const gaps = intervals(out);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  t.ok(mean > 0.07, `the output runs at the model's pace, not the camera's (mean ${(mean * 1000).toFixed(0)} ms between frames)`);
  t.ok(gaps.every((g) => Math.abs(g / 0.04 - Math.round(g / 0.04)) < 0.05), 'each kept frame keeps its camera timestamp (gaps are whole frame periods)');
  t.equal(c.queuePeak, 1, 'never more than one frame waits for the model');
  t.ok(c.rssMb < 600, `memory stays bounded (peak RSS ${c.rssMb} MB)`);
});

t.test('drop with a real ONNX model: the reader keeps reading while a frame is inferred, so frames are dropped, not left in the socket', async (t) => {
  // causal-sr x2 on 640x360 takes about 0.25 s a frame here: ten camera frames arrive meanwhile.
  // With inference on the main thread the reader got about one packet per frame inferred (25 in,
  // 2 dropped for 20 out; the rest waited in the socket, ever later); on its own thread, 127 in
  const cam = await startRtspCamera({ size: '640x360', audio: false });
  t.teardown(() => cam.server.stop());
  const out = join(tmp, 'drop-onnx.mkv');
  const r = await runCliAsync(['-i', cam.url, '-o', out, '--scale', '2', '--change-threshold', 'off', '--live-policy', 'drop', '--inject', 'eosAfter=20', '-c:v', 'ffv1', '-v']);
  t.equal(r.code, 0, r.stderr);
  const c = counts(r.stderr);
  t.equal(c.out, 20, '20 frames written');
  t.ok(c.in >= 2 * c.out && c.dropped >= c.in / 2, `the camera's frames were read and dropped as they came (${c.in} in, ${c.dropped} dropped, ${c.out} out)`);
});

t.test('fallback: every frame is kept at the full frame rate, the late ones through bicubic', async (t) => {
  const out = join(tmp, 'fallback.mkv');
  // the primary model takes 300 ms; a frame may take 450 ms from arrival to output
  // 150 frames: the first second or two arrive in a burst (buffered while the stream was probed), all late
  const r = await runCliAsync(['-i', await camera(t), '-o', out, '--model', 'bicubic', '--scale', '2', '--live-policy', 'fallback', '--latency-budget', '450', '--inject', 'modelDelayMs=300,eosAfter=150', '-v']);
  t.equal(r.code, 0, r.stderr);
  const c = counts(r.stderr);
  t.equal(c.out, 150);
  t.equal(c.dropped, 0, 'nothing dropped');
  t.equal(c.viaModels, 150, 'every written frame went through one of the two models');
  t.ok(c.fallback > 0 && c.fallback < 150, `some frames by the fallback model (${c.fallback}), some by the model (${150 - c.fallback})`);
  const gaps = intervals(out);
  t.equal(probeVideoFrames(out).length, 150);
  t.ok(gaps.every((g) => Math.abs(g - 0.04) < 0.002), 'output at the full 25 fps: every interval is 40 ms');
  t.ok(c.queuePeak < 100, `the wait stays bounded (queue peak ${c.queuePeak})`);
});

t.test('queue: nothing dropped while the model keeps up; past --max-queue an error names the limit', async (t) => {
  const url = await camera(t);
  const ok = await runCliAsync(['-i', url, '-o', join(tmp, 'queue.mkv'), '--model', 'bicubic', '--scale', '2', '--live-policy', 'queue', '--inject', 'eosAfter=40', '-v']);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(counts(ok.stderr).dropped, 0, 'no drops');
  t.ok(intervals(join(tmp, 'queue.mkv')).every((g) => Math.abs(g - 0.04) < 0.002), 'every frame, 40 ms apart');
  const full = await runCliAsync(['-i', url, '-o', join(tmp, 'queue-full.mkv'), '--model', 'bicubic', '--scale', '2', '--live-policy', 'queue', '--max-queue', '10', '--inject', 'modelDelayMs=200']);
  t.equal(full.code, 1, 'exit 1');
  t.match(full.stderr, /error in source: .*10 frames are waiting \(--max-queue\)/);
  t.ok(probeVideoFrames(join(tmp, 'queue-full.mkv')).length > 0, 'the frames written before the error are in a finalized file');
});

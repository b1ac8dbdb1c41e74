import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { probeVideoFrames, ROOT } from './helpers/media.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-progress-'));
const SAMPLE = join(ROOT, 'samples', 'sample-320x180.mp4');

t.test('--progress json: one JSON line a second on stderr, the last one done, even with -q', async (t) => {
  const out = join(tmp, 'out.mkv');
  const t0 = performance.now();
  // a model slowed to 30 ms a frame makes the 100 frames last about 3 s or more
  const r = runCli(['-i', SAMPLE, '-o', out, '-m', 'bicubic', '--scale', '2', '-c:v', 'ffv1', '-q', '--progress', 'json', '--inject', 'modelDelayMs=30']);
  const seconds = (performance.now() - t0) / 1000;
  t.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter(Boolean);
  const records = lines.map((l) => JSON.parse(l) as { frame: number; framesIn: number; fps: number; time: number; eta: number | null; percent: number | null; done: boolean });
  const written = probeVideoFrames(out).length;
  t.equal(records.at(-1)?.done, true, 'the last line says done');
  t.equal(records.at(-1)?.frame, written, `the last line counts the ${written} frames ffprobe finds in the output`);
  t.equal(records.filter((x) => x.done).length, 1, 'one done line');
  const ticks = records.length - 1;
  t.ok(ticks >= Math.floor(seconds) - 2 && ticks <= Math.ceil(seconds), `${ticks} progress lines in ${seconds.toFixed(1)} s: about one a second`);
  t.ok(ticks >= 2, 'the run lasted long enough to report on the way');
  for (let i = 1; i < records.length; i++) t.ok(records[i]!.frame >= records[i - 1]!.frame && records[i]!.time >= records[i - 1]!.time, `line ${i + 1} does not go back`);
  t.ok(records.slice(0, -1).every((x) => x.percent !== null && x.percent < 100 + 1e-9 && x.eta !== null), 'a file of known duration gives percent and ETA');
  t.equal(records.at(-1)?.percent, 100);
});

t.test('without --progress json, progress is the ffmpeg-style line as before', async (t) => {
  const r = runCli(['-i', SAMPLE, '-o', join(tmp, 'line.mkv'), '-m', 'bicubic', '--scale', '2', '-c:v', 'ffv1', '--inject', 'modelDelayMs=60']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^frame=\s+\d+ fps=\s*[\d.]+ time=\d\d:\d\d:\d\d\.\d\d speed=[\d.]+x/m);
  t.notMatch(r.stderr, /^\{/m, 'no JSON lines');
});

// One chunk job run in this process (bicubic, a 96x64 clip): the chunk file appears only whole and
// under its final name, a complete one is kept when the job runs again (resume), a damaged or
// short one is redone, and a chunk's frames are exactly its planned range.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/core/log.js';
import { scanVideo } from '../src/av/scan.js';
import { planChunks } from '../src/queue/plan.js';
import { chunkComplete, runChunk } from '../src/queue/chunk-job.js';
import type { ChunkJobData } from '../src/queue/job-data.js';
import { fixture, NUMBER } from './helpers/media.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-queue-chunk-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const clip = fixture('chunk-96x64-2s.mp4', (o) => ['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=2', '-vf', NUMBER, '-c:v', 'libx264', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-f', 'mp4', o]);
const scan = await scanVideo(clip, clip);
const plans = planChunks(scan, 1, 4);

function data(index: number): ChunkJobData {
  return {
    job: 'test',
    input: clip,
    count: plans.length,
    plan: plans[index]!,
    timeBase: scan.timeBase,
    file: join(tmp, `chunk-${index}.mp4`),
    model: { id: 'bicubic', scale: 2, device: 'cpu', threads: 1 },
    encoder: { crf: 0, preset: 'ultrafast' },
    maxInFlight: 2,
  };
}
const run = (d: ChunkJobData) => runChunk(d, { log: silentLogger, signal: new AbortController().signal, onProgress: () => undefined, token: 'tok12345' });

t.test('the second chunk writes its own 25 frames, with the input pts, after 4 warm-up frames', async (t) => {
  t.equal(plans.length, 2);
  const d = data(1);
  t.equal(d.plan.warmupFrames, 4);
  const r = await run(d);
  t.same(r, { reused: false, frames: 25, model: 'bicubic x2' }, 'written, by the model named as the start line names it');
  const pts = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', d.file], { encoding: 'utf8' }).trim().split('\n').map(Number).sort((a, b) => a - b);
  t.same(pts, Array.from({ length: 25 }, (_, i) => Number((1 + i * 0.04).toFixed(2))), 'frames 25..49 at their input times');
  t.same(readdirSync(tmp).filter((f) => f.includes('.part')), [], 'no temporary file left');
});

t.test('a complete chunk file is kept when the job runs again; a damaged one is redone', async (t) => {
  const d = data(1);
  const before = statSync(d.file).mtimeMs;
  t.ok(await chunkComplete(d));
  t.same(await run(d), { reused: true, frames: 25 }, 'kept');
  t.equal(statSync(d.file).mtimeMs, before, 'not rewritten');
  truncateSync(d.file, Math.floor(statSync(d.file).size / 2));
  t.notOk(await chunkComplete(d), 'half a file is not complete');
  t.same(await run(d), { reused: false, frames: 25, model: 'bicubic x2' }, 'redone');
  t.ok(await chunkComplete(d));
  t.notOk(await chunkComplete(data(0)), 'a chunk never run is not complete');
});

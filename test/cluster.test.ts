// Workers on a real Redis (started here on a free port): a file cut into 6 chunks, upscaled by three
// worker processes of the built CLI and joined, compared with a single-process run of the same model;
// a worker killed with -9 mid-chunk; every worker gone mid-job and the job resumed; a poison chunk;
// Redis restarted under a running worker. causal-sr (it keeps a history, so the warm-up frames
// matter) with --threads 1 on a 96x64 clip of 6 s, keyframe every second, frame number burnt in.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli, runCliAsync } from './helpers/cli.js';
import { fixture, NUMBER, packetMd5s } from './helpers/media.js';
import { Managed, waitFor } from './helpers/servers.js';
import { TestRedis } from './helpers/redis.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-cluster-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const clip = fixture('cluster-96x64-6s.mp4', (o) => [
  '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=6', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6',
  '-vf', NUMBER, '-c:v', 'libx264', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-f', 'mp4', o,
]);
// lossless x264 (crf 0): the comparison measures the chunking, not two encoders' rounding
const MODEL = ['--model', 'causal-sr', '--threads', '1', '--crf', '0'];
const FRAMES = 150;

const redis = await TestRedis.start(tmp);
t.teardown(() => redis.down());

const workers = new Map<string, Managed>();
async function startWorker(name: string): Promise<Managed> {
  const w = await new Managed(name, process.execPath, [CLI, 'worker', '--redis', redis.url, '--name', name, '--lock-seconds', '3']).ready(/taking jobs/);
  workers.set(name, w);
  return w;
}
t.teardown(async () => {
  for (const w of workers.values()) await w.stop('SIGKILL');
});

function submit(out: string, extra: string[] = []) {
  return runCliAsync(['submit', '-i', clip, '-o', out, '--redis', redis.url, '--chunk-seconds', '1', ...MODEL, ...extra]);
}

interface Listed { id: string; state: string; progress: number; chunks: number; chunksDone: number; error?: string; chunkStates: Array<{ state: string; attempts: number; worker?: string }> }
function jobs(): Listed[] {
  const r = runCli(['jobs', '--redis', redis.url, '--json']);
  if (r.code !== 0) throw new Error(`jobs failed: ${r.stderr}`);
  return r.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Listed);
}

const probe = (path: string, stream: string, entries: string): string[] =>
  execFileSync('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', `packet=${entries}`, '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim().split('\n');
const ptsList = (path: string): number[] => probe(path, 'v', 'pts').map(Number).sort((a, b) => a - b);

/** Per-frame PSNR (average of Y, U, V) of a against b, by ffmpeg's psnr filter. */
function psnrPerFrame(a: string, b: string): number[] {
  const stats = join(tmp, `psnr-${Date.now()}.txt`);
  execFileSync('ffmpeg', ['-v', 'error', '-i', a, '-i', b, '-lavfi', `[0:v][1:v]psnr=stats_file=${stats}`, '-f', 'null', '-']);
  return readFileSync(stats, 'utf8').trim().split('\n').map((l) => {
    const v = /psnr_avg:(\S+)/.exec(l)![1]!;
    return v === 'inf' ? Infinity : Number(v);
  });
}

const single = join(tmp, 'single.mp4');
const ref = runCli(['-i', clip, '-o', single, '-q', ...MODEL]);
if (ref.code !== 0) throw new Error(`single run failed: ${ref.stderr}`);
const singlePts = ptsList(single);

/** The joined file against the single run: frames, pts, audio packets, PSNR; returns the lowest PSNR. */
function sameAsSingle(t: Tap.Test, out: string): number {
  t.ok(existsSync(out), 'the output exists');
  const pts = ptsList(out);
  t.equal(pts.length, FRAMES, `${FRAMES} frames`);
  t.same(pts, singlePts, 'the same pts list as the single run');
  t.same(probe(out, 'a', 'pts,dts,duration'), probe(single, 'a', 'pts,dts,duration'), 'the same audio packet times');
  t.same(packetMd5s(out, 'a'), packetMd5s(single, 'a'), 'the same audio packets');
  const psnr = psnrPerFrame(out, single);
  t.equal(psnr.length, FRAMES);
  const min = Math.min(...psnr);
  t.ok(min >= 45, `PSNR against the single run ≥ 45 dB on every frame (lowest ${min.toFixed(2)} dB)`);
  return min;
}

const leftovers = (): string[] => readdirSync(tmp).filter((f) => f.startsWith('.'));

t.test('three workers, six chunks: the joined file matches a single-process run', async (t) => {
  await Promise.all(['w1', 'w2', 'w3'].map(startWorker));
  const out = join(tmp, 'three.mp4');
  const r = await submit(out, ['--wait']);
  t.equal(r.code, 0, r.stderr);
  const id = r.stdout.toString().trim();
  t.match(r.stderr, /6 chunks/);
  const min = sameAsSingle(t, out);
  t.comment(`lowest PSNR of a joined frame against the single run: ${min.toFixed(2)} dB`);
  const job = jobs().find((j) => j.id === id)!;
  t.equal(job.state, 'completed');
  t.equal(job.progress, 100);
  const by = new Set(job.chunkStates.map((c) => c.worker));
  t.ok(by.size >= 2, `chunks ran on ${by.size} workers (${[...by].join(', ')})`);
  t.same(leftovers(), [], 'no temporary file or chunk folder left');
});

t.test('without warm-up frames the chunk starts differ: the PSNR check catches it', async (t) => {
  const out = join(tmp, 'no-warmup.mp4');
  const r = await submit(out, ['--wait', '--warmup-frames', '0']);
  t.equal(r.code, 0, r.stderr);
  const min = Math.min(...psnrPerFrame(out, single));
  t.ok(min < 45, `lowest PSNR without warm-up: ${min.toFixed(2)} dB`);
  t.same(ptsList(out), singlePts, 'frames and pts are still all there');
});

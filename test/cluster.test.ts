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
import { CLI, runCli, runCliAsync, startCli } from './helpers/cli.js';
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
/** Everything each worker said (Managed keeps only the last 20 kB). */
const said = new Map<string, string>();
async function startWorker(name: string): Promise<Managed> {
  const w = new Managed(name, process.execPath, [CLI, 'worker', '--redis', redis.url, '--name', name, '--lock-seconds', '3']);
  said.set(name, '');
  w.child.stderr!.on('data', (d: Buffer) => said.set(name, said.get(name)! + d.toString()));
  await w.ready(/taking jobs/);
  workers.set(name, w);
  return w;
}
t.teardown(async () => {
  for (const w of workers.values()) await w.stop('SIGKILL');
});

function submit(out: string, extra: string[] = []) {
  return runCliAsync(['submit', '-i', clip, '-o', out, '--redis', redis.url, '--chunk-seconds', '1', ...MODEL, ...extra]);
}

/** submit --wait started in the background: the job id as soon as it is printed, and the exit. */
async function submitInBackground(out: string, extra: string[] = []) {
  const child = startCli(['submit', '-i', clip, '-o', out, '--redis', redis.url, '--chunk-seconds', '1', ...MODEL, '--wait', ...extra]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  await waitFor(() => stdout.includes('\n'), 20_000, 'the job id');
  return { id: stdout.trim(), exit };
}

/** The first worker to say it started a chunk of job `id`, and which chunk (0-based). */
async function firstStarted(id: string, among: string[]): Promise<{ name: string; chunk: number }> {
  let found: { name: string; chunk: number } | undefined;
  await waitFor(() => {
    for (const name of among) {
      const m = new RegExp(`job ${id} chunk (\\d+)/\\d+ .* started`).exec(said.get(name)!);
      if (m) found = { name, chunk: Number(m[1]) - 1 };
    }
    return found !== undefined;
  }, 30_000, `a chunk of ${id} to start`);
  return found!;
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

t.test('one-line errors: user errors exit 2, an unreachable Redis exits 1', async (t) => {
  const cases: Array<[string[], number, RegExp]> = [
    [['submit', '-i', join(tmp, 'nope.mp4'), '-o', join(tmp, 'x.mp4'), '--redis', redis.url], 2, /^stream-sr: input '.*nope\.mp4': no such file or directory\n$/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', 'http://127.0.0.1:1'], 2, /^stream-sr: --redis http:\/\/127\.0\.0\.1:1: expected redis:\/\/HOST:PORT/],
    [['submit', '-i', clip, '-o', single, '--redis', redis.url], 2, /^stream-sr: output '.*single\.mp4' already exists; use -y to overwrite it\n$/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.y4m'), '--redis', redis.url], 2, /y4m|yuv4mpegpipe cannot be joined/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', redis.url, '--model', 'no-such-model'], 2, /no-such-model/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', redis.url, '--preset', 'bogus'], 2, /^stream-sr: output '.*x\.mp4': unknown libx264 preset 'bogus'/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', redis.url, '--crf', '99'], 2, /--crf 99 is out of range/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', redis.url, '-c:v', 'no-such-encoder'], 2, /unknown video encoder 'no-such-encoder'/],
    [['submit', '-i', clip, '-o', join(tmp, 'x.mp4'), '--redis', 'redis://127.0.0.1:1'], 1, /^stream-sr: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/],
    [['jobs', '--redis', 'redis://127.0.0.1:1'], 1, /^stream-sr: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: /],
  ];
  for (const [args, code, message] of cases) {
    const r = runCli(args);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.notOk(existsSync(join(tmp, 'x.mp4')));
});

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

t.test('a model without history (bicubic) gets no warm-up frames unless asked; causal-sr gets 8', async (t) => {
  const out = join(tmp, 'bicubic.mp4');
  const r = await runCliAsync(['submit', '-i', clip, '-o', out, '--redis', redis.url, '--chunk-seconds', '1', '--model', 'bicubic', '--crf', '0', '--wait']);
  t.equal(r.code, 0, r.stderr);
  const id = r.stdout.toString().trim();
  const lines = [...said.values()].join('').split('\n').filter((l) => l.includes(`job ${id} chunk `) && l.endsWith('started'));
  t.equal(lines.length, 6, 'six chunks started');
  t.notOk(lines.some((l) => /warm-up/.test(l)), `no chunk decodes frames before its start: ${lines[1]}`);
  t.same(ptsList(out), singlePts, 'every frame, at the pts of the single run');
  const causal = [...said.values()].join('').split('\n').filter((l) => / chunk 2\/6 \(.*after 8 warm-up\) started/.test(l));
  t.ok(causal.length > 0, 'the causal-sr jobs before it: chunk 2 after 8 warm-up frames');
  const done = [...said.values()].join('').split('\n').filter((l) => l.includes(`job ${id} chunk `) && / done in /.test(l));
  t.ok(done.length === 6 && done.every((l) => / done in [\d.]+ s by bicubic x4$/.test(l)), `each chunk's done line names the model that ran it: ${done[0]}`);
  t.ok([...said.values()].join('').split('\n').some((l) => / done in [\d.]+ s by causal-sr x4 (fp32|int8) change-aware/.test(l)), 'and for causal-sr, the weights this worker\'s CPU chose');
});

/**
 * Submits with encoder `codec` into `out` and checks the joined file: that codec, every frame, spanning
 * the input's time (Matroska keeps time in ms whatever the join asks for: packets must be rescaled to
 * that), and no chunk left. Returns the lowest per-frame PSNR against the single run.
 */
async function joinedAsInput(t: Tap.Test, out: string, codec: string, name: string): Promise<number> {
  const r = await submit(out, ['--wait', '-c:v', codec]);
  t.equal(r.code, 0, r.stderr);
  const streams = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', out], { encoding: 'utf8' }).trim();
  t.equal(streams, name, `${name} video`);
  const times = probe(out, 'v', 'pts_time').map(Number).sort((a, b) => a - b);
  t.equal(times.length, FRAMES, `${FRAMES} frames`);
  const span = times.at(-1)! - times[0]!;
  t.ok(Math.abs(span - (FRAMES - 1) / 25) < 0.002, `the frames span ${span.toFixed(3)} s at 25 fps, as the input's`);
  t.same(leftovers(), [], 'no temporary file or chunk folder left');
  return Math.min(...psnrPerFrame(out, single));
}

t.test('ffv1 (which MP4 does not take) into Matroska: the job completes, the joined file whole and timed as the input', async (t) => {
  const out = join(tmp, 'ffv1.mkv');
  const min = await joinedAsInput(t, out, 'ffv1', 'ffv1');
  t.same(packetMd5s(out, 'a'), packetMd5s(single, 'a'), 'the audio packets copied once, unchanged');
  t.ok(min >= 45, `PSNR against the single run (lossless x264) ≥ 45 dB on every frame (lowest ${min.toFixed(2)} dB)`);
});

t.test('VP8 (which neither MP4 nor MOV takes) into Matroska: chunks in Matroska, the joined file whole and timed as the input', async (t) => {
  const min = await joinedAsInput(t, join(tmp, 'vp8.mkv'), 'libvpx', 'vp8');
  t.ok(min >= 30, `every frame decodes and resembles the single run (lowest ${min.toFixed(2)} dB at libvpx's default bitrate)`);
});

t.test('a worker killed with -9 mid-chunk: the chunk is redone on another, the job completes once', async (t) => {
  const out = join(tmp, 'killed.mp4');
  const { id, exit } = await submitInBackground(out, ['--inject', 'modelDelayMs=40']);
  const victim = await firstStarted(id, ['w1', 'w2', 'w3']);
  const killedAt = Date.now();
  await workers.get(victim.name)!.stop('SIGKILL');
  workers.delete(victim.name);
  const r = await exit;
  t.equal(r.code, 0, r.stderr);
  t.comment(`job done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after ${victim.name} was killed in chunk ${victim.chunk + 1}`);
  sameAsSingle(t, out);
  const job = jobs().find((j) => j.id === id)!;
  t.not(job.chunkStates[victim.chunk]!.worker, victim.name, `chunk ${victim.chunk + 1} was finished by ${job.chunkStates[victim.chunk]!.worker}`);
  const joins = [...said.values()].map((w) => w.split(`job ${id}: 150 frames written`).length - 1).reduce((a, b) => a + b, 0);
  t.equal(joins, 1, 'joined once');
  t.same(leftovers(), [], 'no temporary file or chunk folder left');
  await startWorker(victim.name);
});

t.test('SIGTERM drains: the worker finishes the chunk it holds and exits 0', async (t) => {
  const out = join(tmp, 'drained.mp4');
  const { id, exit } = await submitInBackground(out, ['--inject', 'modelDelayMs=40']);
  const held = await firstStarted(id, [...workers.keys()]);
  const w = workers.get(held.name)!;
  w.child.kill('SIGTERM');
  workers.delete(held.name);
  const guard = setTimeout(() => w.child.kill('SIGKILL'), 60_000);
  t.equal(await w.exit, 0, 'exit 0');
  clearTimeout(guard);
  t.match(said.get(held.name), new RegExp(`SIGTERM: finishing[\\s\\S]*job ${id} chunk ${held.chunk + 1}/6 .* done in`), 'the chunk held was finished after the signal');
  const r = await exit;
  t.equal(r.code, 0, r.stderr);
  sameAsSingle(t, out);
  const job = jobs().find((j) => j.id === id)!;
  t.equal(job.chunkStates[held.chunk]!.worker, held.name, 'by the worker that held it');
  await startWorker(held.name);
});

t.test('a second SIGTERM hands the chunk held back to the queue: another worker does it', async (t) => {
  const out = join(tmp, 'handed-back.mp4');
  const { id, exit } = await submitInBackground(out, ['--inject', 'modelDelayMs=100']);
  const held = await firstStarted(id, [...workers.keys()]);
  const w = workers.get(held.name)!;
  workers.delete(held.name);
  w.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const sent = Date.now();
  w.child.kill('SIGTERM');
  const guard = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
  t.equal(await w.exit, 0, 'exit 0');
  clearTimeout(guard);
  t.ok(Date.now() - sent < 10_000, `gone ${Date.now() - sent} ms after the second SIGTERM, without finishing the chunk`);
  t.match(said.get(held.name), new RegExp(`job ${id} chunk ${held.chunk + 1}/6 .* handed back`));
  t.notMatch(said.get(held.name), new RegExp(`job ${id} chunk ${held.chunk + 1}/6 .* done in`));
  const r = await exit;
  t.equal(r.code, 0, r.stderr);
  sameAsSingle(t, out);
  const job = jobs().find((j) => j.id === id)!;
  t.not(job.chunkStates[held.chunk]!.worker, held.name, `chunk ${held.chunk + 1} done by ${job.chunkStates[held.chunk]!.worker}`);
  t.equal(job.chunkStates[held.chunk]!.attempts, 1, 'the hand-back is not counted as a failed attempt');
  await startWorker(held.name);
});

t.test('Redis restarted under running workers: they reconnect and the job completes', async (t) => {
  const out = join(tmp, 'redis-restart.mp4');
  const { id, exit } = await submitInBackground(out, ['--inject', 'modelDelayMs=40']);
  await firstStarted(id, [...workers.keys()]);
  const before = new Map([...workers.keys()].map((name) => [name, said.get(name)!.length]));
  await redis.down();
  await new Promise((r) => setTimeout(r, 1500));
  await redis.up();
  const r = await exit;
  t.equal(r.code, 0, r.stderr);
  sameAsSingle(t, out);
  for (const name of workers.keys()) {
    const since = said.get(name)!.slice(before.get(name));
    t.ok(/connection to Redis \S+ lost/.test(since) && /unreachable .*; retry 1 in/.test(since) && /reconnected to Redis/.test(since), `${name} said the outage, its retries and the reconnection`, { output: since.slice(-2500) });
  }
  // and they still take new jobs: BullMQ's blocking connection can stay parked after an outage
  const again = await submit(join(tmp, 'after-restart.mp4'), ['--wait']);
  t.equal(again.code, 0, `a job submitted after the restart completes: ${again.stderr.slice(-300)}`);
});

t.test('every worker gone mid-job: new workers resume it without redoing finished chunks', async (t) => {
  const out = join(tmp, 'resumed.mp4');
  // slow enough that a poll (a `jobs` run, a second or more on a busy machine) sees 2 to 5 chunks
  // done: at 40 ms a frame a CI run saw 1 and then all 6
  const { id, exit } = await submitInBackground(out, ['--inject', 'modelDelayMs=150']);
  await waitFor(() => {
    const j = jobs().find((x) => x.id === id);
    return j !== undefined && j.chunksDone >= 2 && j.chunksDone < 6;
  }, 60_000, 'two chunks done');
  for (const [name, w] of workers) {
    await w.stop('SIGKILL');
    workers.delete(name);
  }
  const done = jobs().find((x) => x.id === id)!.chunkStates.flatMap((c, i) => (c.state === 'completed' ? [i] : []));
  t.ok(done.length >= 2 && done.length < 6, `chunks ${done.map((i) => i + 1).join(', ')} were done when every worker was killed`);
  await Promise.all(['r1', 'r2'].map(startWorker));
  const r = await exit;
  t.equal(r.code, 0, r.stderr);
  sameAsSingle(t, out);
  for (const name of ['r1', 'r2']) {
    for (const i of done) t.notMatch(said.get(name)!, new RegExp(`job ${id} chunk ${i + 1}/6 .* started`), `${name} did not redo chunk ${i + 1}`);
  }
});

t.test('a poison chunk fails the job with its own message after its attempts', async (t) => {
  const out = join(tmp, 'poison.mp4');
  const r = await submit(out, ['--wait', '--inject', 'errorAfter=3,chunk=2', '--attempts', '2', '--backoff', '0.2']);
  t.equal(r.code, 1);
  t.match(r.stderr, /stream-sr: job \S+ failed: chunk 3\/6 of job \S+: error in injected: injected: injected failure at frame \d+\n/);
  const id = r.stdout.toString().trim();
  const job = jobs().find((j) => j.id === id)!;
  t.equal(job.state, 'failed');
  t.equal(job.chunkStates[2]!.state, 'failed');
  t.equal(job.chunkStates[2]!.attempts, 2, 'tried twice');
  t.match(job.error, /chunk 3\/6/);
  t.notOk(existsSync(out), 'no output');
  const listed = runCli(['jobs', '--redis', redis.url]);
  t.match(listed.stdout.toString(), new RegExp(`${id}\\s+failed`));
});

#!/usr/bin/env node
/**
 * Cluster benchmark (`make bench-cluster`): the wall time of one clip (60 s, 160x96 at 25 fps,
 * keyframe every second, AAC audio) upscaled x4 by causal-sr with --threads 1, once in a single
 * process and then through a Redis queue (a redis-server started here on a free port) with 1, 2
 * and 4 worker processes of the CLI on this machine, chunks of --chunk-seconds. Writes JSON.
 *
 *   node dist/src/bench/cluster-bench.js --out bench/cluster.json [--seconds 60] [--workers 1,2,4]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packageRoot } from '../core/package-root.js';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${seen}`)));
  });
}

function run(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`stream-sr ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const argv = await yargs(hideBin(process.argv))
  .option('out', { type: 'string', default: 'bench/cluster.json' })
  .option('seconds', { type: 'number', default: 60 })
  .option('size', { type: 'string', default: '160x96' })
  .option('chunk-seconds', { type: 'number', default: 5 })
  .option('workers', { type: 'string', default: '1,2,4' })
  .strict()
  .parseAsync();

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-bench-cluster-'));
const children: ChildProcess[] = [];
const stopAll = (): void => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
};
process.on('exit', () => {
  stopAll();
  rmSync(tmp, { recursive: true, force: true });
});

const clip = join(tmp, 'clip.mp4');
const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${argv.size}:rate=25:duration=${argv.seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${argv.seconds}`,
  '-vf', 'drawtext=text=%{n}:x=2:y=2:fontsize=20:fontcolor=white:box=1:boxcolor=black', '-c:v', 'libx264', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip], { encoding: 'utf8' });
if (ff.status !== 0) throw new Error(`ffmpeg failed: ${ff.stderr}`);

const MODEL = ['--model', 'causal-sr', '--threads', '1', '-q'];
// other work on the machine changes every figure: the load is recorded with them
const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const single = run(['-i', clip, '-o', join(tmp, 'single.mp4'), ...MODEL]);
process.stderr.write(`single process: ${single.toFixed(1)} s\n`);

const port = await freePort();
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmp, '--save', '', '--appendonly', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
children.push(redis);
await waitForLine(redis, /Ready to accept connections/, 'redis-server');
const url = `redis://127.0.0.1:${port}`;

const runs: Array<{ workers: number; wallSeconds: number; speedupVsSingle: number; chunks: number }> = [];
for (const n of argv.workers.split(',').map(Number)) {
  const workers = Array.from({ length: n }, (_, i) => spawn(process.execPath, [CLI, 'worker', '--redis', url, '--name', `b${n}-${i}`], { stdio: ['ignore', 'pipe', 'pipe'] }));
  children.push(...workers);
  await Promise.all(workers.map((w, i) => waitForLine(w, /taking jobs/, `worker ${i}`)));
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'submit', '-i', clip, '-o', join(tmp, `out-${n}.mp4`), '--redis', url, '--chunk-seconds', String(argv.chunkSeconds), '--wait', ...MODEL.filter((a) => a !== '-q')], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`submit with ${n} workers failed (${r.status}): ${r.stderr}`);
  const chunks = Number(/in (\d+) chunks/.exec(r.stderr)?.[1] ?? 0);
  runs.push({ workers: n, wallSeconds: Math.round(wall * 10) / 10, speedupVsSingle: Math.round((single / wall) * 100) / 100, chunks });
  process.stderr.write(`${n} worker(s): ${wall.toFixed(1)} s (${chunks} chunks)\n`);
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r2) => (w.exitCode !== null ? r2(null) : w.once('exit', r2)))));
}

const result = {
  clip: { seconds: argv.seconds, size: argv.size, fps: 25, keyframeSeconds: 1, audio: 'aac' },
  model: 'causal-sr x4, --threads 1 per process',
  chunkSeconds: argv.chunkSeconds,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtStart, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
  singleProcessSeconds: Math.round(single * 10) / 10,
  queued: runs,
  note: 'workers share this machine\'s cores: beyond the core count more workers cannot be faster; on N machines the chunk phase divides by N while the plan (packet scan), the join (stream copy, one process) and Redis round trips per chunk (a few ms) do not',
};
mkdirSync(dirname(argv.out), { recursive: true });
writeFileSync(argv.out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
redis.kill('SIGTERM');

#!/usr/bin/env node
/**
 * Live benchmark: an RTSP camera (GStreamer's RTSP server, 320x180 at 25 fps by default) through
 * bicubic under `drop` and through esrgan-slim under `fallback`, into a low-latency HLS output, for
 * --minutes each. Reports glass-to-glass latency (from the frame's time on the camera's clock, and
 * from its arrival, to the end of its write) p50/p95, sustained output fps, drop and fallback
 * rates, and RSS after 1 minute against RSS at the end.
 *
 *   node dist/src/bench/live-bench.js --minutes 10 --out bench/live-bench.json
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { memoryLogger } from '../core/log.js';
import { packageRoot } from '../core/package-root.js';
import { toNumber } from '../core/rational.js';
import { RunStats } from '../core/stats.js';
import type { Frame } from '../core/frame.js';
import { findModel } from '../models/registry.js';
import { pipelineFromData } from '../pipeline/pipeline-file.js';
import { runSpec } from '../pipeline/run-spec.js';

interface Scenario {
  readonly name: string;
  readonly model: string;
  readonly policy: 'drop' | 'fallback';
  readonly target: string;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'bicubic', model: 'bicubic', policy: 'drop', target: 'p95 latency < 200 ms, no drops' },
  { name: 'esrgan-slim', model: 'esrgan-slim', policy: 'fallback', target: 'full output frame rate; share of model frames reported' },
];
const WARMUP_MS = 10_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startCamera(size: string, fps: number): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('/usr/bin/python3', [join(packageRoot(), 'tools', 'rtsp-camera.py'), '--port', String(port), '--size', size, '--fps', String(fps), '--no-audio'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`rtsp-camera.py exited (${code}); needs gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-ugly`)));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
  });
  return { url: `rtsp://127.0.0.1:${port}/cam`, child };
}

function percentile(values: Float64Array, p: number): number {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

/** Per-frame measurements, grown as needed (a 10-minute run at 25 fps is 15000 frames). */
class Samples {
  private data = new Float64Array(4096);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

async function runScenario(s: Scenario, opts: { minutes: number; size: string; fps: number; budgetMs: number }) {
  try {
    await findModel(s.model);
  } catch (err) {
    return { scenario: s.name, skipped: `model ${s.model} is not installed (${(err as Error).message.split(';')[0]}); run make models` };
  }
  const cam = await startCamera(opts.size, opts.fps);
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-live-bench-'));
  const spec = pipelineFromData(
    { id: s.name, source: { url: cam.url }, model: { id: s.model, scale: 4 }, policy: { mode: s.policy, latencyBudgetMs: opts.budgetMs }, sinks: [{ url: join(dir, 'index.m3u8') }] },
    `${s.name}.yaml`,
  );
  const stop = new AbortController();
  const stats = new RunStats();
  const arrival = new Samples();
  /** Per frame: write time minus the frame's time on the camera's clock (ms); the offset is fixed below. */
  const clock = new Samples();
  let warmOut: { t: number; frames: number } | undefined;
  /**
   * The camera's clock on ours: the frame that arrived soonest after its own time sets it (the
   * burst of frames buffered while the stream was probed arrives late and must not).
   */
  let earliest = Infinity;
  let rssAt1: number | undefined;
  let peakRss = 0;
  const t0 = performance.now();
  const onFrame = (frame: Frame): void => {
    const now = performance.now();
    const seconds = frame.pts * toNumber(frame.info.timeBase);
    if (frame.arrivedAt !== undefined) earliest = Math.min(earliest, frame.arrivedAt - seconds * 1000);
    if (now - t0 < WARMUP_MS) return;
    warmOut ??= { t: now, frames: stats.get('framesOut') };
    if (frame.arrivedAt !== undefined) arrival.push(now - frame.arrivedAt);
    clock.push(now - seconds * 1000);
  };
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb());
    if (rssAt1 === undefined && performance.now() - t0 >= 60_000) rssAt1 = rssMb();
  }, 1000);
  const timer = setTimeout(() => stop.abort(), opts.minutes * 60_000);
  const dropsAtWarm = { value: 0 };
  setTimeout(() => (dropsAtWarm.value = stats.get('framesDropped')), WARMUP_MS);
  try {
    await runSpec(spec, { log: memoryLogger(), stats, signal: stop.signal, onFrame });
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
    cam.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  const end = performance.now();
  const out = stats.get('framesOut');
  const through = stats.get('modelFrames') + stats.get('fallbackFrames');
  const a = arrival.values();
  const c = clock.values().map((v) => v - earliest);
  return {
    scenario: s.name,
    model: s.model,
    policy: s.policy,
    target: s.target,
    minutes: opts.minutes,
    source: `rtsp ${opts.size} @ ${opts.fps} fps (GStreamer RTSP server, x264 zerolatency)`,
    output: 'HLS, libx264 zerolatency veryfast, 1280x720',
    framesIn: stats.get('framesIn'),
    framesOut: out,
    dropped: stats.get('framesDropped'),
    droppedAfterWarmup: stats.get('framesDropped') - dropsAtWarm.value,
    dropRate: round(stats.get('framesDropped') / Math.max(1, stats.get('framesIn')), 4),
    modelFrames: stats.get('modelFrames'),
    fallbackFrames: stats.get('fallbackFrames'),
    modelShare: through ? round(stats.get('modelFrames') / through, 4) : null,
    sustainedOutputFps: warmOut ? round((out - warmOut.frames) / ((end - warmOut.t) / 1000), 2) : 0,
    latencyMs: {
      // glass to glass, less the network and depacketizing delay of the quickest frame
      streamClockToWrite: { p50: round(percentile(c, 0.5)), p95: round(percentile(c, 0.95)) },
      arrivalToWrite: { p50: round(percentile(a, 0.5)), p95: round(percentile(a, 0.95)), max: round(a.length ? Math.max(...a) : NaN) },
    },
    rssMb: { after1Minute: rssAt1 ?? null, atEnd: rssMb(), peak: peakRss },
    msPerFrame: Object.fromEntries(Object.entries(stats.toJSON().stageMs).map(([k, v]) => [k, round(v / Math.max(1, out), 2)])),
    loadAverage: (await import('node:os')).loadavg().map((l) => round(l, 2)),
  };
}

const args = await yargs(hideBin(process.argv))
  .option('minutes', { type: 'number', default: 10, describe: 'minutes per scenario' })
  .option('size', { type: 'string', default: '320x180' })
  .option('fps', { type: 'number', default: 25 })
  .option('budget-ms', { type: 'number', default: 500, describe: 'fallback latency budget' })
  .option('only', { type: 'string', choices: SCENARIOS.map((s) => s.name), describe: 'run one scenario' })
  .option('out', { type: 'string', describe: 'also write the JSON here' })
  .strict()
  .parseAsync();
const results = [];
for (const s of SCENARIOS.filter((x) => !args.only || x.name === args.only)) {
  process.stderr.write(`live-bench: ${s.name} (${s.policy}) for ${args.minutes} min ...\n`);
  const r = await runScenario(s, { minutes: args.minutes, size: args.size, fps: args.fps, budgetMs: args.budgetMs });
  process.stderr.write(`live-bench: ${JSON.stringify(r)}\n`);
  results.push(r);
}
const json = JSON.stringify({ date: new Date().toISOString(), results }, null, 2);
if (args.out) {
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, json + '\n');
}
process.stdout.write(json + '\n');

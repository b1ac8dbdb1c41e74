#!/usr/bin/env node
/**
 * `make bench`: stream-sr's whole pipeline (decode, the negotiated conversions, infer, encode) at
 * 320x180 → 1280x720 beside ffmpeg doing scale=flags=bicubic + libx264 on the same input with the
 * same encoder settings, in the same run: once with `bicubic` (swscale on the decoded pictures,
 * against ffmpeg's fps) and once with the default model (its time outside session.run per frame).
 * JSON to stdout and to --out.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../core/package-root.js';
import { median, sh } from './timed-runs.js';
import { RunStats } from '../core/stats.js';
import { silentLogger } from '../core/log.js';
import { DEFAULTS } from '../core/defaults.js';
import { AvSource } from '../sources/av-source.js';
import { AvSink } from '../sinks/av-sink.js';
import { loadModel } from '../models/load.js';
import type { Precision } from '../models/manifest.js';
import { runPipeline } from '../pipeline/run.js';
import { identity } from '../operators/identity.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/bench.json' },
    model: { type: 'string', default: 'bicubic' },
    'learned-model': { type: 'string', default: DEFAULTS.model },
    'learned-frames': { type: 'string', default: '100' },
    /** The model the default replaced (round 2's RGB causal-sr), taken from git history for the comparison. */
    'previous-model': { type: 'string', default: 'f917d30:models/causal-sr' },
    frames: { type: 'string', default: '250' },
    threads: { type: 'string', default: '2' },
    'in-flight': { type: 'string', default: String(DEFAULTS.maxInFlight) },
    repeat: { type: 'string', default: '3' },
  },
});

const root = packageRoot();
const work = join(root, 'bench');
mkdirSync(work, { recursive: true });
const frames = Number(values.frames);
const input = join(work, `input-320x180-${frames}.mkv`);

if (!existsSync(input)) {
  const made = sh('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25`, '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', input]);
  if (made.status !== 0) throw new Error(`cannot make the bench input: ${made.stderr}`);
}

/** `REV:DIR` of this repository's history written out as a model folder (model.json and its x4 graphs). */
function modelFromHistory(spec: string): string {
  const [rev, dir] = spec.split(':') as [string, string];
  const out = join(work, 'previous-model', rev);
  const show = (path: string) => {
    const r = spawnSync('git', ['-C', root, 'show', `${rev}:${dir}/${path}`], { maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`git show ${rev}:${dir}/${path}: ${r.stderr.toString().trim()}`);
    return r.stdout;
  };
  const manifest = JSON.parse(show('model.json').toString('utf8'));
  mkdirSync(out, { recursive: true });
  for (const v of manifest.variants) writeFileSync(join(out, v.file), show(v.file));
  writeFileSync(join(out, 'model.json'), JSON.stringify({ ...manifest, id: `${manifest.id}@${rev}` }));
  return join(out, 'model.json');
}

async function streamSr(modelId: string, frameLimit?: number, precision?: Precision) {
  const stats = new RunStats();
  const encoder = { codec: 'libx264', preset: DEFAULTS.preset, crf: DEFAULTS.crf };
  let sessionMs = 0;
  let formats = '';
  const model = await loadModel(modelId, { scale: 4, ...(precision ? { precision } : {}), session: { device: { device: 'cpu' }, threads: Number(values.threads), log: silentLogger, onRunTime: (ms) => (sessionMs += ms) } });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const summary = await runPipeline({
    source: new AvSource({ input }),
    model,
    sink: new AvSink({ output: join(work, `stream-sr-${model.id.replace(/[^\w.@-]+/g, '_')}.mp4`), encoder, stats }),
    log: silentLogger,
    stats,
    maxInFlight: Number(values['in-flight']),
    onStart: (info) => (formats = info.formats),
    ...(frameLimit ? { before: [identity({ eosAfter: frameLimit })] } : {}),
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const n = summary.framesOut;
  const perFrame = (stage: string) => +(stats.stageMs(stage) / n).toFixed(2);
  return {
    model: model.id + (model.detail ? ` ${model.detail}` : ''),
    formats,
    maxInFlight: Number(values['in-flight']),
    frames: summary.framesOut,
    wallSeconds: +(wall / 1000).toFixed(3),
    fps: +(summary.framesOut / (wall / 1000)).toFixed(2),
    cpuMsPerFrame: +((cpu.user + cpu.system) / 1000 / summary.framesOut).toFixed(2),
    msPerFrame: {
      demux: perFrame('demux'),
      decode: perFrame('decode'),
      convertIn: perFrame('convert'),
      infer: perFrame('infer'),
      convertOut: perFrame('convert-out'),
      encode: perFrame('encode'),
    },
    sessionRunMsPerFrame: +(sessionMs / n).toFixed(2),
    /** Wall time per frame that is not inside session.run: decoding, conversions, encoding, JS. */
    outsideSessionMsPerFrame: +((wall - sessionMs) / n).toFixed(2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function ffmpegBicubic() {
  const out = join(work, 'ffmpeg-out.mp4');
  const r = sh('/usr/bin/time', ['-f', '%M %U %S', 'ffmpeg', '-v', 'error', '-y', '-i', input, '-vf', 'scale=iw*4:ih*4:flags=bicubic', '-c:v', 'libx264', '-preset', DEFAULTS.preset, '-crf', String(DEFAULTS.crf), out]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  const [rssKb, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return {
    wallSeconds: +(r.ms / 1000).toFixed(3),
    fps: +(frames / (r.ms / 1000)).toFixed(2),
    cpuMsPerFrame: +((((user ?? 0) + (sys ?? 0)) * 1000) / frames).toFixed(2),
    peakRssMB: Math.round((rssKb ?? 0) / 1024),
  };
}

// alternating runs, medians: a machine whose load changes during the bench treats both alike
const runs: Array<{ ours: Awaited<ReturnType<typeof streamSr>>; ffmpeg: ReturnType<typeof ffmpegBicubic> }> = [];
for (let i = 0; i < Number(values.repeat); i++) runs.push({ ours: await streamSr(values.model!), ffmpeg: ffmpegBicubic() });
const ours = median(runs.map((r) => r.ours), (r) => r.fps);
const ffmpeg = median(runs.map((r) => r.ffmpeg), (r) => r.fps);
const learned = await streamSr(values['learned-model']!, Number(values['learned-frames']));
// where auto chose int8 (CPUs with 8-bit dot products), the same model in fp32 beside it
const learnedFp32 = /^int8\b/.test(learned.model.split(' ')[1] ?? '') ? await streamSr(values['learned-model']!, Number(values['learned-frames']), 'fp32') : undefined;
const previous = await streamSr(modelFromHistory(values['previous-model']!), Number(values['learned-frames']));
const result = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  input: { file: input, size: '320x180', frames, output: '1280x720', encoder: `libx264 preset ${DEFAULTS.preset} crf ${DEFAULTS.crf}` },
  streamSr: ours,
  ffmpeg,
  fpsRatio: +(ours.fps / ffmpeg.fps).toFixed(3),
  runs: runs.map((r) => ({ streamSrFps: r.ours.fps, ffmpegFps: r.ffmpeg.fps, ratio: +(r.ours.fps / r.ffmpeg.fps).toFixed(3) })),
  learned,
  ...(learnedFp32 ? { learnedFp32, learnedFpsOverFp32: +(learned.fps / learnedFp32.fps).toFixed(3) } : {}),
  previous,
  learnedFpsOverPrevious: +(learned.fps / previous.fps).toFixed(3),
  targets: {
    learnedFps: `the default model's whole pipeline at 25 fps or more (issue 10), beside ffmpeg's bicubic above and the model it replaced (${values['previous-model']})`,
    fpsRatio: 'stream-sr with bicubic reaches 0.9 of ffmpeg fps (fpsRatio >= 0.9)',
    outsideSessionMsPerFrame: `the default model (${values['learned-model']}) spends at most 12 ms per frame outside session.run`,
  },
};
const text = JSON.stringify(result, null, 2);
const outPath = resolve(values.out!);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, text + '\n');
process.stdout.write(text + '\n');

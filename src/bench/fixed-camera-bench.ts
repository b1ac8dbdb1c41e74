#!/usr/bin/env node
/**
 * `make bench-fixed-camera`: change-aware compute on a real fixed-camera clip (opencv's vtest.avi, a
 * pedestrian scene from Debian's opencv-doc), x4 from its bicubic LR (ffmpeg `scale=iw/4:ih/4:
 * flags=bicubic`, as ../shared/data makes LR), beside full compute of the same model and ffmpeg's
 * bicubic, in the same run, alternating: fps of the whole pipeline (decode, model, rawvideo into
 * nut, so the encoder does not hide the model's share) and PSNR-Y against the original frames
 * (crop 4, as `stream-sr eval --crop 4`). JSON to stdout and to --out.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
import { runPipeline } from '../pipeline/run.js';
import { parseChangeThreshold } from '../pipeline/model-options.js';
import { evaluate } from '../metrics/evaluate.js';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/fixed-camera.json' },
    clip: { type: 'string', default: VTEST },
    model: { type: 'string', default: DEFAULTS.model },
    frames: { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    /** Thresholds to measure beside full compute (comma-separated); the default's first. */
    thresholds: { type: 'string', default: DEFAULTS.changeThreshold },
  },
});

if (!existsSync(values.clip!)) {
  process.stderr.write(`${values.clip}: not found; on Debian: apt-get install opencv-doc (or apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb DIR, then --clip DIR${VTEST})\n`);
  process.exit(2);
}

const root = packageRoot();
const work = join(root, 'bench', 'fixed-camera');
mkdirSync(work, { recursive: true });
const frames = Number(values.frames);
const gt = join(work, `gt-${frames}.mkv`);
const lr = join(work, `lr-x4-${frames}.mkv`);

function must(r: { status: number | null; stderr: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
}

// the original frames (cropped to multiples of 4, a no-op for 768x576) and their bicubic LR, lossless RGB
if (!existsSync(gt)) must(sh('ffmpeg', ['-v', 'error', '-y', '-i', values.clip!, '-frames:v', String(frames), '-vf', 'crop=trunc(iw/4)*4:trunc(ih/4)*4:0:0', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', gt]), 'making the ground truth');
if (!existsSync(lr)) must(sh('ffmpeg', ['-v', 'error', '-y', '-i', gt, '-vf', 'scale=iw/4:ih/4:flags=bicubic', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', lr]), 'making the LR');

async function psnrY(file: string): Promise<number> {
  const report = await evaluate({ ref: gt, test: file, crop: 4 });
  return +report.mean.psnrY.toFixed(4);
}

async function streamSr(label: string, threshold: number | undefined) {
  const stats = new RunStats();
  let sessionMs = 0;
  let runs = 0;
  const model = await loadModel(values.model!, {
    scale: 4,
    ...(threshold !== undefined ? { changeThreshold: threshold } : {}),
    session: { device: { device: 'cpu' }, threads: Number(values.threads), log: silentLogger, onRunTime: (ms) => ((sessionMs += ms), runs++) },
  });
  const out = join(work, `out-${label}.nut`);
  const t0 = performance.now();
  const summary = await runPipeline({ source: new AvSource({ input: lr }), model, sink: new AvSink({ output: out, encoder: { codec: 'rawvideo' }, stats }), log: silentLogger, stats });
  const wall = performance.now() - t0;
  const n = summary.framesOut;
  const psnr = await psnrY(out);
  rmSync(out, { force: true });
  return {
    label,
    frames: n,
    fps: +(n / (wall / 1000)).toFixed(2),
    sessionRunMsPerFrame: +(sessionMs / n).toFixed(2),
    sessionRunsPerFrame: +(runs / n).toFixed(2),
    outsideSessionMsPerFrame: +((wall - sessionMs) / n).toFixed(2),
    psnrY: psnr,
    ...(summary.modelReport ? { report: summary.modelReport } : {}),
  };
}

async function ffmpegBicubic() {
  const out = join(work, 'out-ffmpeg-bicubic.nut');
  const r = sh('ffmpeg', ['-v', 'error', '-y', '-i', lr, '-vf', 'scale=iw*4:ih*4:flags=bicubic', '-c:v', 'rawvideo', out]);
  must(r, 'ffmpeg');
  const psnr = await psnrY(out);
  rmSync(out, { force: true });
  return { label: 'ffmpeg bicubic', frames, fps: +(frames / (r.ms / 1000)).toFixed(2), psnrY: psnr };
}

type Result = Awaited<ReturnType<typeof streamSr>>;
const thresholds = values.thresholds!.split(',').map((t) => t.trim());
const runs: Array<{ full: Result; changeAware: Result[]; ffmpeg: Awaited<ReturnType<typeof ffmpegBicubic>> }> = [];
// alternating runs, medians: a machine whose load changes during the bench treats all alike
for (let i = 0; i < Number(values.repeat); i++) {
  const full = await streamSr('full', undefined);
  const changeAware: Result[] = [];
  for (const t of thresholds) changeAware.push(await streamSr(`change-${t}`, parseChangeThreshold(t)));
  runs.push({ full, changeAware, ffmpeg: await ffmpegBicubic() });
}
const full = median(runs.map((r) => r.full), (r) => r.fps);
const ffmpeg = median(runs.map((r) => r.ffmpeg), (r) => r.fps);
const changeAware = thresholds.map((t, k) => {
  const r = median(runs.map((x) => x.changeAware[k]!), (x) => x.fps);
  return { threshold: t, ...r, fpsVsFull: +(r.fps / full.fps).toFixed(3), psnrYLossDb: +(full.psnrY - r.psnrY).toFixed(4) };
});
const result = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  input: { clip: values.clip, frames, lr: '192x144 (ffmpeg scale=iw/4:ih/4:flags=bicubic)', output: '768x576, rawvideo in nut', model: values.model, threads: Number(values.threads), repeat: Number(values.repeat) },
  full,
  changeAware,
  ffmpeg,
  runs: runs.map((r) => ({ fullFps: r.full.fps, changeAwareFps: r.changeAware.map((c) => c.fps), ffmpegFps: r.ffmpeg.fps })),
  targets: { fpsVsFull: 'change-aware compute (default threshold) >= 2.5x the fps of full compute', psnrYLossDb: '<= 0.05 dB PSNR-Y below full compute' },
};
const text = JSON.stringify(result, null, 2);
const outPath = resolve(values.out!);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, text + '\n');
process.stdout.write(text + '\n');

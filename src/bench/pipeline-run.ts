#!/usr/bin/env node
/**
 * One benchmark run in its own process (so peak RSS is this model's): decode → model → libx264
 * encode of the first N frames of a clip, timing every session.run. Prints one JSON object.
 *
 *   node dist/src/bench/pipeline-run.js --model esrgan-slim --scale 4 --input samples/sample-320x180.mp4 --frames 20 [--model-dir DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/log.js';
import { RunStats } from '../core/stats.js';
import { loadModel } from '../models/load.js';
import { identity } from '../operators/identity.js';
import { runPipeline } from '../pipeline/run.js';
import { AvSink } from '../sinks/av-sink.js';
import { AvSource } from '../sources/av-source.js';

export interface PipelineResult {
  readonly model: string;
  readonly scale: number;
  readonly input: string;
  readonly output: string;
  readonly frames: number;
  readonly wallSeconds: number;
  readonly secondsPerFrame: number;
  readonly sessionRunSeconds: number;
  /** session.run time / wall time of the frame loop (model load excluded). */
  readonly sessionRunShare: number;
  readonly loadSeconds: number;
  readonly peakRssMB: number;
  readonly stageMsPerFrame: Record<string, number>;
}

export async function measurePipeline(opts: { model: string; scale: number; input: string; frames: number; modelDirs: string[]; threads?: number }): Promise<PipelineResult> {
  let runMs = 0;
  const t0 = performance.now();
  const model = await loadModel(opts.model, {
    scale: opts.scale,
    modelDirs: opts.modelDirs,
    session: { device: { device: 'cpu' }, ...(opts.threads ? { threads: opts.threads } : {}), log: silentLogger, onRunTime: (ms) => (runMs += ms) },
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'stream-sr-bench-'));
  const stats = new RunStats();
  try {
    const sink = new AvSink({ output: join(dir, 'out.mp4'), encoder: { crf: 18, preset: 'veryfast' }, stats });
    const loopStart = performance.now();
    const summary = await runPipeline({ source: new AvSource({ input: opts.input }), model, sink, log: silentLogger, stats, before: [identity({ eosAfter: opts.frames })] });
    const wall = (performance.now() - loopStart) / 1000;
    const frames = summary.framesOut;
    const { stageMs } = stats.toJSON();
    return {
      model: opts.model,
      scale: opts.scale,
      input: `${summary.input.width}x${summary.input.height}`,
      output: `${summary.output.width}x${summary.output.height}`,
      frames,
      wallSeconds: wall,
      secondsPerFrame: wall / frames,
      sessionRunSeconds: runMs / 1000,
      sessionRunShare: runMs / 1000 / wall,
      loadSeconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      stageMsPerFrame: Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, v / frames])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('pipeline-run.js')) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, scale: { type: 'string', default: '4' }, input: { type: 'string' }, frames: { type: 'string', default: '20' }, 'model-dir': { type: 'string', multiple: true }, threads: { type: 'string' } } });
  const result = await measurePipeline({
    model: values.model!,
    scale: Number(values.scale),
    input: values.input!,
    frames: Number(values.frames),
    modelDirs: values['model-dir'] ?? [],
    ...(values.threads ? { threads: Number(values.threads) } : {}),
  });
  process.stdout.write(JSON.stringify(result) + '\n');
}

import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Rational } from '../core/rational.js';
import { RunStats } from '../core/stats.js';
import type { EncoderSettings } from '../av/output.js';
import type { Device } from '../inference/providers.js';
import { loadModel, type LoadModelOptions } from '../models/load.js';
import { AvSink } from '../sinks/av-sink.js';
import { createSource, isUrl } from '../sources/open-source.js';
import { ProgressReporter } from './progress.js';
import { runPipeline, type RunSummary } from './run.js';
import { StopSignals } from './signals.js';
import { identity, type IdentityOptions } from '../operators/identity.js';

export interface UpscaleJob {
  readonly input: string;
  readonly inputFormat?: string;
  readonly output: string;
  readonly outputFormat?: string;
  readonly model: string;
  readonly modelDirs?: readonly string[];
  readonly scale: number;
  readonly device: Device;
  readonly gpu?: number;
  readonly threads?: number;
  /** Half-precision graphs on GPU providers. */
  readonly fp16?: boolean;
  /** Options of diffusion models (stream-diffvsr). */
  readonly diffusion?: LoadModelOptions['diffusion'];
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  readonly overwrite: boolean;
  readonly maxInFlight: number;
  readonly frameRate?: Rational;
  readonly progress: boolean;
  /** Fault injection between source and model (tests). */
  readonly inject?: IdentityOptions;
  readonly log: Logger;
}

export interface JobResult {
  readonly summary: RunSummary;
  /** 0, or 130/143 when a signal stopped the run. */
  readonly exitCode: number;
}

function checkOutput(output: string, overwrite: boolean): void {
  if (output === '-' || isUrl(output)) return;
  if (existsSync(output)) {
    if (statSync(output).isDirectory()) throw new UsageError(`output '${output}': is a directory`);
    if (!overwrite) throw new UsageError(`output '${output}' already exists; use -y to overwrite it`);
  }
  const dir = dirname(output);
  if (!existsSync(dir)) throw new UsageError(`output '${output}': folder ${dir} does not exist`);
}

/** `stream-sr -i IN -o OUT`: one input, one model, one output, with progress and Ctrl-C handling. */
export async function runUpscaleJob(job: UpscaleJob): Promise<JobResult> {
  checkOutput(job.output, job.overwrite);
  const stats = new RunStats();
  const source = createSource({ input: job.input, ...(job.inputFormat ? { format: job.inputFormat } : {}), ...(job.frameRate ? { frameRate: job.frameRate } : {}) });
  const model = await loadModel(job.model, {
    scale: job.scale,
    ...(job.modelDirs ? { modelDirs: job.modelDirs } : {}),
    session: { device: { device: job.device, ...(job.gpu !== undefined ? { gpu: job.gpu } : {}) }, ...(job.threads ? { threads: job.threads } : {}), ...(job.fp16 ? { fp16: true } : {}), log: job.log },
    ...(job.diffusion ? { diffusion: job.diffusion } : {}),
  });
  const sink = new AvSink({
    output: job.output,
    ...(job.outputFormat ? { format: job.outputFormat } : {}),
    encoder: job.encoder,
    ...(job.pixelFormat ? { pixelFormat: job.pixelFormat } : {}),
    stats,
  });
  const signals = new StopSignals((sig) => job.log.info(`${sig}: finishing the frames in flight and closing the output (again to stop at once)`));
  let progress: ProgressReporter | undefined;
  try {
    const summary = await runPipeline({
      source,
      model,
      sink,
      maxInFlight: job.maxInFlight,
      signal: signals.signal,
      hardSignal: signals.hardSignal,
      log: job.log,
      stats,
      ...(job.inject ? { before: [identity({ ...job.inject, name: 'injected' })] } : {}),
      onStart: ({ input, output }) => {
        job.log.info(`${source.label}: ${input.video.width}x${input.video.height} ${input.video.pixelFormat} → ${model.id} x${model.scale} → ${sink.describe()}`);
        if (job.progress) progress = new ProgressReporter(input.video);
        void output;
      },
      onFrame: (frame, s) => progress?.update(frame, s),
    });
    progress?.finish();
    return { summary, exitCode: signals.exitCode() ?? 0 };
  } finally {
    signals.dispose();
  }
}

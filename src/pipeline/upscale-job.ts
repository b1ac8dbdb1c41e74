import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoppedBeforeStartError, UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Rational } from '../core/rational.js';
import { RunStats } from '../core/stats.js';
import { DEFAULTS } from '../core/defaults.js';
import type { EncoderSettings } from '../av/output.js';
import { isUrl } from '../sources/open-source.js';
import { defaultLiveSettings, type LiveSettings } from '../sources/live-options.js';
import { outputKind } from '../sinks/live-outputs.js';
import { pictureNames } from '../sinks/picture-names.js';
import { JsonProgressReporter, ProgressReporter } from './progress.js';
import type { RunSummary } from './run.js';
import { StopSignals } from './signals.js';
import type { IdentityOptions } from '../operators/identity.js';
import { runSpec } from './run-spec.js';
import type { MetricsSnapshot } from './run-meter.js';
import type { ModelSpec, PipelineSpec } from './spec.js';

export interface UpscaleJob {
  readonly input: string;
  readonly inputFormat?: string;
  readonly output: string;
  readonly outputFormat?: string;
  /** The model and how it runs (MODEL_OPTIONS, from the command line). */
  readonly model: ModelSpec;
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  readonly overwrite: boolean;
  readonly maxInFlight: number;
  readonly frameRate?: Rational;
  /** -copyts: keep the input's timestamps (outputs otherwise start at 0, as ffmpeg's do). */
  readonly copyTimestamps?: boolean;
  /** true: ffmpeg's progress line (rewritten in place on a terminal); 'json': one JSON line a second. */
  readonly progress: boolean | 'json';
  /** Fault injection between source and model, or in the model (tests). */
  readonly inject?: IdentityOptions & { readonly modelDelayMs?: number };
  /** How live inputs are read (policy, reconnect, transport); defaults when absent. */
  readonly live?: LiveSettings;
  readonly fallbackModel?: string;
  readonly latencyBudgetMs?: number;
  /** Segmented recording (--segment-time) and HLS window (--hls-time, --hls-list-size). */
  readonly segmentSeconds?: number;
  readonly hlsSegmentSeconds?: number;
  readonly hlsListSize?: number;
  readonly log: Logger;
}

export interface JobResult {
  readonly summary: RunSummary;
  /** 0, or 130/143 when a signal stopped the run. */
  readonly exitCode: number;
  /** Latency, drops and fallbacks of the run (live inputs). */
  readonly metrics: MetricsSnapshot;
  readonly live: boolean;
  /** A second Ctrl-C: the output is finalized, but a model call may still be running. */
  readonly stoppedAtOnce: boolean;
}

/**
 * The same file by device and inode: catches `x` vs `./x`, a symlink and a hard link alike. Writing
 * the file being read destroys it as it is read (ffmpeg refuses this too, even with -y).
 */
function sameFile(input: string, output: string): boolean {
  if (input === '-' || isUrl(input)) return false;
  try {
    const a = statSync(input);
    const b = statSync(output);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

function checkOutput(input: string, named: string, overwrite: boolean, kind: string): void {
  if (named === '-' || isUrl(named) || kind === 'segments' || kind === 'null') return;
  // numbered pictures: the first one's name is what must not be written over unasked
  const output = kind === 'pictures' ? join(dirname(named), pictureNames(named).first) : named;
  if (existsSync(output)) {
    if (statSync(output).isDirectory()) throw new UsageError(`output '${output}': is a directory`);
    if (sameFile(input, output)) throw new UsageError(`output '${output}' is the input file '${input}' itself; refusing to overwrite what is being read (write to another file)`);
    if (!overwrite) throw new UsageError(`output '${output}' already exists; use -y to overwrite it`);
  }
  const dir = dirname(output);
  if (!existsSync(dir) && kind !== 'hls') throw new UsageError(`output '${output}': folder ${dir} does not exist`);
}

/** The command line's one input, one model and one output as a pipeline. */
function specOf(job: UpscaleJob): PipelineSpec {
  const live = job.live ?? defaultLiveSettings();
  return {
    id: 'cli',
    source: { url: job.input, ...(job.inputFormat ? { format: job.inputFormat } : {}), ...(job.frameRate ? { frameRate: job.frameRate } : {}), ...(job.copyTimestamps ? { copyTimestamps: true } : {}) },
    live,
    model: job.model,
    fallbackModel: job.fallbackModel ?? DEFAULTS.fallbackModel,
    latencyBudgetMs: job.latencyBudgetMs ?? DEFAULTS.latencyBudgetMs,
    outputs: [
      {
        output: job.output,
        ...(job.outputFormat ? { format: job.outputFormat } : {}),
        ...(job.segmentSeconds !== undefined ? { segmentSeconds: job.segmentSeconds } : {}),
        ...(job.hlsSegmentSeconds !== undefined ? { hlsSegmentSeconds: job.hlsSegmentSeconds } : {}),
        ...(job.hlsListSize !== undefined ? { hlsListSize: job.hlsListSize } : {}),
        rtspTransport: live.rtspTransport,
        encoder: job.encoder,
        ...(job.pixelFormat ? { pixelFormat: job.pixelFormat } : {}),
      },
    ],
    maxInFlight: job.maxInFlight,
    restart: { enabled: false, initialDelayMs: 0, maxDelayMs: 0, maxAttempts: 0 },
    ...(job.inject ? { inject: job.inject } : {}),
  };
}

/** `stream-sr -i IN -o OUT`: one input, one model, one output, with progress and Ctrl-C handling. */
export async function runUpscaleJob(job: UpscaleJob): Promise<JobResult> {
  const spec = specOf(job);
  checkOutput(job.input, job.output, job.overwrite, outputKind(spec.outputs[0]!));
  const stats = new RunStats();
  const signals = new StopSignals((sig) => job.log.info(`${sig}: finishing the frames in flight and closing the output (again to stop at once)`));
  let progress: ProgressReporter | JsonProgressReporter | undefined;
  try {
    const { summary, meter, live } = await runSpec(spec, {
      log: job.log,
      stats,
      signal: signals.signal,
      hardSignal: signals.hardSignal,
      onDescribe: (line) => job.log.info(line),
      onStart: ({ input }) => {
        if (job.progress) progress = job.progress === 'json' ? new JsonProgressReporter(input.video) : new ProgressReporter(input.video);
      },
      onFrame: (frame, s) => progress?.update(frame, s),
    });
    progress?.finish();
    return { summary, exitCode: signals.exitCode() ?? 0, metrics: meter.snapshot(), live, stoppedAtOnce: signals.hardSignal.aborted };
  } catch (err) {
    // stopped by the user while still connecting: report it with the signal's exit status
    if (err instanceof StoppedBeforeStartError) throw new StoppedBeforeStartError(err.what, signals.exitCode() ?? 130);
    throw err;
  } finally {
    if (progress instanceof JsonProgressReporter) progress.stop();
    signals.dispose();
  }
}

import { tap } from 'rxjs';
import type { Frame } from '../core/frame.js';
import type { Logger } from '../core/log.js';
import { RunStats } from '../core/stats.js';
import { Credit } from '../core/credit.js';
import { buildPipeline } from './build.js';
import { RunMeter } from './run-meter.js';
import { runPipeline, type RunOptions, type RunSummary } from './run.js';
import type { PipelineSpec } from './spec.js';

export interface SpecRunOptions {
  readonly log: Logger;
  /** Ends the input and finishes the frames in flight and the outputs (drain). */
  readonly signal: AbortSignal;
  /** Drops the frames in flight and finalizes at once. */
  readonly hardSignal?: AbortSignal;
  readonly stats?: RunStats;
  readonly meter?: RunMeter;
  /** Before the first frame: what runPipeline's onStart gives, and the model as the start line names it (id, scale, weights, change-aware). */
  readonly onStart?: (info: Parameters<NonNullable<RunOptions['onStart']>>[0] & { readonly model: string }) => void;
  readonly onFrame?: RunOptions['onFrame'];
  /** Called with each frame from the source, before the model (the console's preview). */
  readonly onSourceFrame?: (frame: Frame) => void;
  /** Called with one line describing the pipeline once it is negotiated. */
  readonly onDescribe?: (line: string) => void;
}

export interface SpecRunResult {
  readonly summary: RunSummary;
  readonly meter: RunMeter;
  readonly live: boolean;
}

/** Builds and runs one pipeline to its end (or until the signal stops it), measuring each frame. */
export async function runSpec(spec: PipelineSpec, opts: SpecRunOptions): Promise<SpecRunResult> {
  const stats = opts.stats ?? new RunStats();
  const meter = opts.meter ?? new RunMeter(stats);
  const built = await buildPipeline(spec, { log: opts.log, stats, signal: opts.signal });
  const ticker = setInterval(() => meter.tick(), 1000);
  try {
    const summary = await runPipeline({
      source: built.source,
      model: built.model,
      sink: built.sink,
      credit: new Credit(spec.maxInFlight),
      signal: opts.signal,
      ...(opts.hardSignal ? { hardSignal: opts.hardSignal } : {}),
      log: opts.log,
      stats,
      before: opts.onSourceFrame ? [...built.before, tap(opts.onSourceFrame)] : built.before,
      onStart: (info) => {
        const v = info.input.video;
        const model = `${built.model.id} x${built.model.scale}${built.model.detail ? ` ${built.model.detail}` : ''}`;
        opts.onDescribe?.(`${built.source.label}: ${v.width}x${v.height} ${v.pixelFormat}${built.live ? ` live (${spec.live.policy})` : ''} → ${model} → ${built.sink.describe()}; formats: ${info.formats.replace('model', built.model.id)}`);
        opts.onStart?.({ ...info, model });
      },
      onFrame: (frame, s) => {
        meter.onFrame(frame);
        opts.onFrame?.(frame, s);
      },
    });
    return { summary, meter, live: built.live };
  } finally {
    clearInterval(ticker);
  }
}

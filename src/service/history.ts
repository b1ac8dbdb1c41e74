import type { PipelineStatus } from '../pipeline/supervisor.js';

/** One second of a pipeline's life, as the console's charts draw it. */
export interface HistorySample {
  /** Unix milliseconds. */
  readonly t: number;
  readonly inputFps: number;
  readonly outputFps: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  /** Frames dropped since the service started (the charts draw the increase per sample). */
  readonly drops: number;
}

export interface LogLine {
  readonly at: string;
  readonly line: string;
}

/** About five minutes at one sample a second. */
export const HISTORY_SAMPLES = 300;
export const LOG_LINES = 200;

/** Drops the oldest entries past `limit`: memory stays bounded however long the service runs. */
function push<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** A pipeline's recent rates, latency, drops and log lines, kept in memory by the service. */
export class PipelineHistory {
  private readonly samples: HistorySample[] = [];
  private readonly lines: LogLine[] = [];

  constructor(
    private readonly sampleLimit = HISTORY_SAMPLES,
    private readonly lineLimit = LOG_LINES,
  ) {}

  sample(s: PipelineStatus, t = Date.now()): void {
    const m = s.metrics;
    push(this.samples, { t, inputFps: m.inputFps, outputFps: m.outputFps, latencyP50Ms: m.latencyP50Ms, latencyP95Ms: m.latencyP95Ms, drops: m.framesDropped }, this.sampleLimit);
  }

  log(line: string, at = new Date()): void {
    push(this.lines, { at: at.toISOString(), line }, this.lineLimit);
  }

  view(): { samples: readonly HistorySample[]; log: readonly LogLine[] } {
    return { samples: [...this.samples], log: [...this.lines] };
  }
}

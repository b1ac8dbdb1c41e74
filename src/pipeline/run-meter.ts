import type { Frame } from '../core/frame.js';
import { LatencyWindow } from '../core/latency.js';
import type { RunStats } from '../core/stats.js';
import { toMicros } from '../core/timeline.js';

/** What a running pipeline reports: counters since it started, recent rates and latency. */
export interface MetricsSnapshot {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly framesDropped: number;
  readonly modelFrames: number;
  readonly fallbackFrames: number;
  readonly reconnects: number;
  readonly inputFps: number;
  readonly outputFps: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
  readonly latencyCount: number;
  readonly latencySumMs: number;
  /** Why the live input is down while it is being reconnected; null while it delivers. */
  readonly inputDown: string | null;
  /** Where the written output ends on the stream's timeline (µs): a restart continues from here. */
  readonly outputEndUs: number;
}

export const EMPTY_METRICS: MetricsSnapshot = {
  framesIn: 0,
  framesOut: 0,
  framesDropped: 0,
  modelFrames: 0,
  fallbackFrames: 0,
  reconnects: 0,
  inputFps: 0,
  outputFps: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  latencyCount: 0,
  latencySumMs: 0,
  inputDown: null,
  outputEndUs: 0,
};

interface Sample {
  readonly t: number;
  readonly framesIn: number;
  readonly framesOut: number;
}

/**
 * Measures a run: each written frame's latency from its arrival at the source to the end of its
 * write, and input/output frame rates over the last few seconds (from counters sampled by `tick`).
 */
export class RunMeter {
  readonly latency = new LatencyWindow();
  private readonly samples: Sample[] = [];
  private outputEndUs = 0;
  private lastPtsUs: number | undefined;

  constructor(
    private readonly stats: RunStats,
    private readonly windowMs = 5000,
  ) {}

  /** Call after each frame is written. */
  onFrame(frame: Frame, now = performance.now()): void {
    if (frame.arrivedAt !== undefined) this.latency.add(now - frame.arrivedAt);
    const ptsUs = toMicros(frame.pts, frame.info.timeBase);
    // a frame of unknown duration lasts as long as the gap before it
    const durationUs = frame.duration ? toMicros(frame.duration, frame.info.timeBase) : this.lastPtsUs !== undefined ? Math.max(0, ptsUs - this.lastPtsUs) : 0;
    this.lastPtsUs = ptsUs;
    this.outputEndUs = Math.max(this.outputEndUs, ptsUs + durationUs);
  }

  /** Call about once a second. */
  tick(now = performance.now()): void {
    this.samples.push({ t: now, framesIn: this.stats.get('framesIn'), framesOut: this.stats.get('framesOut') });
    while (this.samples.length > 2 && now - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  snapshot(now = performance.now()): MetricsSnapshot {
    const s = this.stats;
    const first = this.samples[0] ?? { t: s.startedAt, framesIn: 0, framesOut: 0 };
    const span = (now - first.t) / 1000;
    const rate = (n: number, base: number): number => (span > 0 ? Math.max(0, n - base) / span : 0);
    const p50 = this.latency.percentile(0.5);
    const p95 = this.latency.percentile(0.95);
    return {
      framesIn: s.get('framesIn'),
      framesOut: s.get('framesOut'),
      framesDropped: s.get('framesDropped'),
      modelFrames: s.get('modelFrames'),
      fallbackFrames: s.get('fallbackFrames'),
      reconnects: s.get('reconnects'),
      inputFps: rate(s.get('framesIn'), first.framesIn),
      outputFps: rate(s.get('framesOut'), first.framesOut),
      latencyP50Ms: p50 ?? null,
      latencyP95Ms: p95 ?? null,
      latencyCount: this.latency.count,
      latencySumMs: this.latency.sumMs,
      inputDown: s.inputDown,
      outputEndUs: this.outputEndUs,
    };
  }
}

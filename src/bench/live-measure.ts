import type { Frame } from '../core/frame.js';
import { toNumber } from '../core/rational.js';
import { RunStats } from '../core/stats.js';

/** Frames before this are the start-up burst (the stream is probed first) and are not measured. */
export const WARMUP_MS = 10_000;

export const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

function percentile(values: Float64Array, p: number): number {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

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

/**
 * What the live benchmark measures for one run: each frame's latency from its arrival and from its
 * time on the camera's clock to the end of its write, the output rate after the warm-up, drops and
 * fallbacks, and RSS after one minute against RSS at the end.
 */
export class LiveMeasure {
  readonly stats = new RunStats();
  private readonly arrival = new Samples();
  /** Write time minus the frame's camera time (ms), before the clock offset is known. */
  private readonly clock = new Samples();
  /**
   * The camera's clock on ours: set by the frame that arrived soonest after its own time (the burst
   * buffered while the stream was probed arrives late and must not set it).
   */
  private earliest = Infinity;
  private warm: { t: number; frames: number; dropped: number } | undefined;
  private rssAfter1Minute: number | undefined;
  private peakRss = 0;
  private readonly t0 = performance.now();
  private readonly sampler = setInterval(() => this.sampleRss(), 1000);

  readonly onFrame = (frame: Frame): void => {
    const now = performance.now();
    const seconds = frame.pts * toNumber(frame.info.timeBase);
    if (frame.arrivedAt !== undefined) this.earliest = Math.min(this.earliest, frame.arrivedAt - seconds * 1000);
    if (now - this.t0 < WARMUP_MS) return;
    this.warm ??= { t: now, frames: this.stats.get('framesOut'), dropped: this.stats.get('framesDropped') };
    if (frame.arrivedAt !== undefined) this.arrival.push(now - frame.arrivedAt);
    this.clock.push(now - seconds * 1000);
  };

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, rssMb());
    if (this.rssAfter1Minute === undefined && performance.now() - this.t0 >= 60_000) this.rssAfter1Minute = rssMb();
  }

  report() {
    clearInterval(this.sampler);
    const s = this.stats;
    const out = s.get('framesOut');
    const through = s.get('modelFrames') + s.get('fallbackFrames');
    const a = this.arrival.values();
    const c = this.clock.values().map((v) => v - this.earliest);
    const end = performance.now();
    return {
      framesIn: s.get('framesIn'),
      framesOut: out,
      dropped: s.get('framesDropped'),
      droppedAfterWarmup: s.get('framesDropped') - (this.warm?.dropped ?? 0),
      dropRate: round(s.get('framesDropped') / Math.max(1, s.get('framesIn')), 4),
      modelFrames: s.get('modelFrames'),
      fallbackFrames: s.get('fallbackFrames'),
      modelShare: through ? round(s.get('modelFrames') / through, 4) : null,
      sustainedOutputFps: this.warm ? round((out - this.warm.frames) / ((end - this.warm.t) / 1000), 2) : 0,
      latencyMs: {
        // glass to glass, less the network and depacketizing delay of the quickest frame
        streamClockToWrite: { p50: round(percentile(c, 0.5)), p95: round(percentile(c, 0.95)) },
        arrivalToWrite: { p50: round(percentile(a, 0.5)), p95: round(percentile(a, 0.95)), max: round(a.reduce((m, v) => Math.max(m, v), -Infinity)) },
      },
      rssMb: { after1Minute: this.rssAfter1Minute ?? null, atEnd: rssMb(), peak: this.peakRss },
      msPerFrame: Object.fromEntries(Object.entries(s.toJSON().stageMs).map(([k, v]) => [k, round(v / Math.max(1, out), 2)])),
    };
  }
}

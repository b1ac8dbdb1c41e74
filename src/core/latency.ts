/**
 * Per-frame latencies (milliseconds) with percentiles over the most recent samples: a ring of fixed
 * size, so a service that runs for weeks keeps constant memory, plus totals over the whole run.
 */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  count = 0;
  sumMs = 0;
  maxMs = 0;

  constructor(readonly capacity = 2048) {
    this.ring = new Float64Array(capacity);
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    this.filled = Math.min(this.filled + 1, this.capacity);
    this.count++;
    this.sumMs += ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  /** The p-quantile (0..1) of the recent samples, nearest-rank; undefined before the first sample. */
  percentile(p: number): number | undefined {
    if (this.filled === 0) return undefined;
    const sorted = Float64Array.from(this.ring.subarray(0, this.filled)).sort();
    const rank = Math.min(this.filled - 1, Math.max(0, Math.ceil(p * this.filled) - 1));
    return sorted[rank];
  }

  /** Forgets the recent samples (the totals stay). */
  clearRecent(): void {
    this.next = 0;
    this.filled = 0;
  }
}

/** Events per second over a sliding window (input and output frame rates of a running pipeline). */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly startedAt = performance.now();

  constructor(private readonly windowMs = 5000) {}

  mark(now = performance.now()): void {
    this.times.push(now);
    this.trim(now);
  }

  perSecond(now = performance.now()): number {
    this.trim(now);
    const span = Math.min(this.windowMs, now - this.startedAt);
    return span > 0 ? (this.times.length * 1000) / span : 0;
  }

  private trim(now: number): void {
    while (this.times.length && now - this.times[0]! > this.windowMs) this.times.shift();
  }
}

import type { Rational } from './rational.js';
import { rescale } from './rational.js';

const US: Rational = { num: 1, den: 1_000_000 };

/** A timestamp FFmpeg set: a finite number, not AV_NOPTS_VALUE (−2^63). */
export const isTimestamp = (t: number | null | undefined): t is number => typeof t === 'number' && Number.isFinite(t) && t > -9.2e18;

/**
 * One continuous timeline over the connections of a live source. Each connection (and each jump
 * inside one: a sender that restarted, a clock that wrapped) is anchored where the previous content
 * ended, so the output's timestamps keep increasing whatever the stream's own clock does. The first
 * connection starts at 0, as ffmpeg shifts an input to its start time. Times are kept in
 * microseconds; each stream keeps its own time base at the edges.
 */
export class LiveTimeline {
  private baseUs = 0;
  private originUs: number | undefined;
  private endUs = 0;
  private readonly lastRaw = new Map<string, number>();
  private broken = false;
  private connections = 0;

  /**
   * @param maxGapUs a forward jump larger than this inside one stream is a break, not a pause
   * @param startUs where the first connection starts (a restarted pipeline continues its output's timeline)
   */
  constructor(
    private readonly maxGapUs = 10_000_000,
    startUs = 0,
  ) {
    this.baseUs = this.endUs = startUs;
  }

  /** A new connection: its first anchored timestamp continues where the content so far ended. */
  beginConnection(): void {
    this.originUs = undefined;
    this.baseUs = this.endUs;
    this.lastRaw.clear();
    if (this.connections++ > 0) this.broken = true;
  }

  get anchored(): boolean {
    return this.originUs !== undefined;
  }

  /** Where the current connection (or the last jump) starts on the timeline. */
  get startUs(): number {
    return this.baseUs;
  }

  /**
   * Maps a stream timestamp onto the timeline (microseconds). `anchor`: this timestamp may start the
   * connection's timeline (video); other streams wait for it and get undefined until then.
   */
  map(stream: string, ts: number, tb: Rational, anchor: boolean): number | undefined {
    const raw = rescale(ts, tb, US);
    const last = this.lastRaw.get(stream);
    if (this.originUs !== undefined && last !== undefined && (raw < last || raw - last > this.maxGapUs)) {
      this.baseUs = this.endUs;
      this.originUs = raw;
      this.broken = true;
    }
    if (this.originUs === undefined) {
      if (!anchor) return undefined;
      this.originUs = raw;
    }
    this.lastRaw.set(stream, raw);
    return this.baseUs + (raw - this.originUs);
  }

  /** Records content that ends at `us` (a timestamp plus its duration). */
  noteEnd(us: number): void {
    this.endUs = Math.max(this.endUs, us);
  }

  /** True once after each break: the next video frame starts a new history. */
  takeBreak(): boolean {
    const b = this.broken;
    this.broken = false;
    return b;
  }
}

export function toMicros(ts: number, tb: Rational): number {
  return rescale(ts, tb, US);
}

export function fromMicros(us: number, tb: Rational): number {
  return rescale(us, US, tb);
}

/**
 * Keeps one stream's timestamps strictly increasing, for files: when a timestamp goes backwards
 * (two MPEG-TS files joined with `cat`, a corrupted packet), it and everything after it is moved
 * by one offset so that it follows on from the previous one (one step later), as ffmpeg does at an
 * MPEG-TS discontinuity; nothing is dropped. The sink owns this: it is where time bases meet.
 */
export class MonotonicTimestamps {
  private offset = 0;
  private last: number | undefined;
  private lastStep = 1;
  /** True when the last map() moved the timeline (not only carried an earlier offset). */
  lastShift = false;
  repairs = 0;

  /** @param step the duration of this frame or packet, in the same units (the next one's minimum distance) */
  map(ts: number, step: number): number {
    let out = ts + this.offset;
    this.lastShift = false;
    if (this.last !== undefined && out <= this.last) {
      const target = this.last + this.lastStep;
      this.offset += target - out;
      out = target;
      this.lastShift = true;
      this.repairs++;
    }
    this.last = out;
    this.lastStep = step > 0 ? step : 1;
    return out;
  }
}

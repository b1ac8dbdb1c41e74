import type { Frame } from '../core/frame.js';
import { takePicture, type Still } from './picture.js';

/** How long one request for a preview keeps the tap watching. */
export const WATCH_MS = 5000;
/** At most one before/after pair per this many milliseconds. */
export const CAPTURE_INTERVAL_MS = 1000;
/** A source frame whose output has not come after this long was dropped: a new pair starts. */
const PAIR_TIMEOUT_MS = 3000;

/**
 * Takes before/after pairs from a running pipeline for the console's preview: the source frame
 * and the model's output of that same frame. It copies nothing while nobody watches (no request
 * for a preview in the last WATCH_MS), and at most one pair per CAPTURE_INTERVAL_MS while watched.
 * `copies` counts every frame copied, for the service's metrics.
 */
export class PreviewTap {
  copies = 0;
  private watchedUntil = -Infinity;
  private lastCapture = -Infinity;
  private pending: { index: number; at: number; before: Still } | undefined;

  constructor(
    private readonly onPair: (pair: { index: number; before: Still; after: Still }) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Someone asked for a preview: keep watching for a while. */
  watch(): void {
    this.watchedUntil = this.now() + WATCH_MS;
  }

  get watched(): boolean {
    return this.now() < this.watchedUntil;
  }

  /** Call with each frame from the source, before the model. */
  onSource(frame: Frame): void {
    const now = this.now();
    if (now >= this.watchedUntil) {
      this.pending = undefined;
      return;
    }
    if (this.pending && now - this.pending.at < PAIR_TIMEOUT_MS) return;
    if (now - this.lastCapture < CAPTURE_INTERVAL_MS) return;
    this.lastCapture = now;
    this.copies++;
    this.pending = { index: frame.index, at: now, before: takePicture(frame) };
  }

  /** Call with each frame the model gave (as it is written). */
  onOutput(frame: Frame): void {
    const pending = this.pending;
    if (!pending || frame.index < pending.index) return;
    this.pending = undefined;
    if (frame.index > pending.index) return; // the source frame was dropped on the way: no pair this time
    this.copies++;
    this.onPair({ index: frame.index, before: pending.before, after: takePicture(frame) });
  }
}

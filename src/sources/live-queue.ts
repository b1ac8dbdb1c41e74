import { SourceError } from '../core/errors.js';

/** What a full queue does: drop its oldest frame (counted), or fail the run. */
export type OverflowMode = 'drop-oldest' | 'error';

/**
 * The bounded hand-over between a live source's reader (which cannot wait: the network keeps
 * sending) and the frame stream (which takes frames as the model frees up): GStreamer's
 * `queue leaky=downstream`, or a strict queue that fails when full.
 */
export class LiveQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T | undefined) => void) | undefined;
  private ended = false;
  private failure: unknown;
  peak = 0;

  constructor(
    readonly capacity: number,
    private readonly overflow: OverflowMode,
    private readonly onDrop: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** Hands a frame on; false when the queue has ended (the caller counts it as dropped). */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
      return true;
    }
    if (this.items.length >= this.capacity) {
      if (this.overflow === 'error') {
        this.end(new SourceError(`the model is slower than the live source: ${this.capacity} frames are waiting (--max-queue); use --live-policy drop or fallback, or a faster model`));
        return false;
      }
      this.onDrop(this.items.shift()!);
    }
    this.items.push(item);
    this.peak = Math.max(this.peak, this.items.length);
    return true;
  }

  /** Empties the queue; returns how many frames were still waiting. */
  clear(): number {
    const n = this.items.length;
    this.items.length = 0;
    return n;
  }

  /** The oldest frame; waits for one. Undefined once the queue has ended and is empty, or on abort. */
  take(signal?: AbortSignal): Promise<T | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const item = this.items.shift();
    if (item !== undefined || this.ended || signal?.aborted) return Promise.resolve(item);
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = (next) => {
        signal?.removeEventListener('abort', onAbort);
        if (next === undefined && this.failure !== undefined) reject(this.failure);
        else resolve(next);
      };
    });
  }

  /** No more frames; with an error, the next take() fails with it (frames still queued are dropped). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) {
      this.failure = error;
      this.items.length = 0;
    }
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}

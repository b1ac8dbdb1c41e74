/**
 * Bounds the number of frames between the source and the sink. The source acquires one credit per
 * frame before it reads; the sink releases it once the frame is written. While no credit is free
 * the source does not read, so a fast decoder never queues frames in memory.
 */
export class Credit {
  private available: number;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private peak = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`credit capacity must be a positive integer, got ${capacity}`);
    this.available = capacity;
  }

  get inFlight(): number {
    return this.capacity - this.available;
  }

  /** The largest number of credits ever held at once. */
  get peakInFlight(): number {
    return this.peak;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.available > 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.take();
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  release(): void {
    if (this.available >= this.capacity) throw new Error('credit released more often than acquired');
    this.available++;
    const next = this.waiting.shift();
    if (next) next();
    if (this.inFlight === 0) for (const done of this.idleWaiters.splice(0)) done();
  }

  /** Resolves once no frame is in flight: every frame handed on has reached the sink. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private take(): void {
    this.available--;
    this.peak = Math.max(this.peak, this.inFlight);
  }
}

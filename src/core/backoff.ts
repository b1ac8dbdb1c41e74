export interface BackoffSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Attempts before giving up; 0 for no limit. */
  readonly maxAttempts: number;
}

/** Exponential backoff: initial, 2x, 4x ... capped at maxDelayMs; `reset` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly settings: BackoffSettings) {}

  /** The delay before the next attempt, or undefined when the attempts are used up. */
  nextDelay(): number | undefined {
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.settings;
    if (maxAttempts > 0 && this.attempt >= maxAttempts) return undefined;
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return delay;
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Waits `ms`, or less when the signal aborts (resolves false then). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

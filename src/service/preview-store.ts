import type { FromWorker, ToWorker } from '../pipeline/worker-protocol.js';

type PreviewMessage = Extract<FromWorker, { type: 'preview' }>;

export interface PreviewImages {
  readonly index: number;
  /** Unix milliseconds when the pair arrived. */
  readonly at: number;
  readonly before: Buffer;
  readonly after: Buffer;
}

/** How often a watched pipeline's worker is reminded that someone still looks. */
const REMIND_MS = 1000;
/** A pair older than this is not served as the current picture: a fresh one is awaited. */
const FRESH_MS = 2500;

/**
 * The service's side of the console's preview: the latest before/after PNGs of one pipeline, and
 * the reminders that keep its worker taking pairs while someone asks for them. The worker copies
 * no frame unless a request came in the last few seconds.
 */
export class PreviewStore {
  private latest: PreviewImages | undefined;
  private lastRemind = -Infinity;
  private waiting: Array<() => void> = [];
  private copiesEarlierRuns = 0;
  private copiesThisRun = 0;

  constructor(private readonly sendToWorker: (msg: ToWorker) => boolean) {}

  /** Frames copied for the preview since the service started. */
  get frameCopies(): number {
    return this.copiesEarlierRuns + this.copiesThisRun;
  }

  /** From the worker's metrics message. */
  setRunCopies(n: number): void {
    this.copiesThisRun = n;
  }

  runEnded(): void {
    this.copiesEarlierRuns += this.copiesThisRun;
    this.copiesThisRun = 0;
  }

  put(msg: PreviewMessage): void {
    this.latest = { index: msg.index, at: Date.now(), before: Buffer.from(msg.before, 'base64'), after: Buffer.from(msg.after, 'base64') };
    for (const wake of this.waiting.splice(0)) wake();
  }

  /**
   * The current pair: asks the worker to keep watching, and waits up to `waitMs` for a fresh pair
   * when the one held is old (or none yet). Undefined when the pipeline has given none.
   */
  async current(waitMs = 2000): Promise<PreviewImages | undefined> {
    const now = Date.now();
    let reached = true;
    if (now - this.lastRemind >= REMIND_MS) {
      reached = this.sendToWorker({ type: 'preview' });
      if (reached) this.lastRemind = now;
    }
    if (reached && (!this.latest || now - this.latest.at > FRESH_MS)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting = this.waiting.filter((w) => w !== wake);
          resolve();
        }, waitMs);
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.waiting.push(wake);
      });
    }
    return this.latest;
  }
}

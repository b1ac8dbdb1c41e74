/**
 * The seeded noise, drawn one frame ahead on a worker thread while ONNX Runtime runs the current
 * frame, so its ~15 ms per 720p frame (Philox + Box–Muller for 230 400 values) leave the frame's
 * critical path. The worker runs the same gaussianNoise, so the values are bit for bit those of
 * seededNoise. A frame whose draw was not prefetched (the first, or after a failure) is drawn here.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gaussianNoise, seedKey, type NoiseSource } from './noise.js';
import type { NoiseRequest } from './noise-worker.js';

interface Pending {
  readonly drawIndex: number;
  readonly result: Promise<Float32Array>;
}

/** The worker's file next to this one: .js when built, .ts when the tests run the sources. */
function workerFile(): string {
  const js = fileURLToPath(new URL('./noise-worker.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./noise-worker.ts', import.meta.url));
}

export class PrefetchedNoise implements NoiseSource {
  private worker?: Worker;
  private pending?: Pending;
  /** Draws that were ready from the worker when asked for (tests, --verbose). */
  prefetched = 0;
  private waiting = new Map<number, { resolve: (b: Float32Array) => void; reject: (e: Error) => void }>();

  private warned = false;

  /** `warn`: told once if the worker fails (every draw is then made on this thread, with the same values). */
  constructor(
    private readonly seed: number,
    private readonly warn?: (message: string) => void,
  ) {
    seedKey(seed);
  }

  fill(drawIndex: number, out: Float32Array): void {
    gaussianNoise(this.seed, drawIndex, out);
  }

  /** Fills `out` with draw `drawIndex` (prefetched when it was the one asked for next), then starts the next draw. */
  async fillAhead(drawIndex: number, out: Float32Array): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    let spare: Float32Array | undefined;
    let filled = false;
    if (pending) {
      const buffer = await pending.result.catch(() => undefined);
      if (buffer && buffer.length === out.length) {
        spare = buffer;
        if (pending.drawIndex === drawIndex) {
          out.set(buffer);
          filled = true;
          this.prefetched++;
        }
      }
    }
    if (!filled) this.fill(drawIndex, out);
    this.request(drawIndex + 1, spare ?? new Float32Array(out.length));
  }

  close(): void {
    this.pending = undefined;
    for (const w of this.waiting.values()) w.reject(new Error('noise worker closed'));
    this.waiting.clear();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private request(drawIndex: number, buffer: Float32Array): void {
    const worker = this.start();
    const result = new Promise<Float32Array>((resolve, reject) => this.waiting.set(drawIndex, { resolve, reject }));
    const message: NoiseRequest = { seed: this.seed, drawIndex, buffer: buffer.buffer as ArrayBuffer };
    result.catch(() => undefined); // a draw nobody asks for (closed, failed) is drawn again on this thread
    worker.postMessage(message, [buffer.buffer as ArrayBuffer]);
    this.pending = { drawIndex, result };
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile());
    worker.unref(); // a pending draw never keeps the process alive
    worker.on('message', (m: { drawIndex: number; buffer?: ArrayBuffer; error?: string }) => {
      const w = this.waiting.get(m.drawIndex);
      this.waiting.delete(m.drawIndex);
      if (m.buffer) w?.resolve(new Float32Array(m.buffer));
      else w?.reject(new Error(m.error ?? 'noise worker failed'));
    });
    const fail = (err: Error) => {
      if (this.waiting.size && !this.warned) {
        this.warned = true;
        this.warn?.(`stream-diffvsr: the noise worker thread failed (${err.message}); drawing the noise on the main thread`);
      }
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('noise worker exited')));
    this.worker = worker;
    return worker;
  }
}

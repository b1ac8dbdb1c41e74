import { Subject, type OperatorFunction } from 'rxjs';
import type { Frame, PixelLayout, VideoInfo } from '../../src/core/frame.js';
import type { ModelState, ModelStep, SrModel } from '../../src/inference/sr-model.js';
import { rgbOf, scaledInfo } from '../../src/core/frame.js';

export const INFO: VideoInfo = {
  width: 4,
  height: 3,
  pixelFormat: 'yuv420p',
  timeBase: { num: 1, den: 90000 },
  frameRate: { num: 25, den: 1 },
  sampleAspect: { num: 1, den: 1 },
  color: { matrix: 'bt709', range: 'tv', primaries: 'bt709', transfer: 'bt709' },
};

export function makeFrame(index: number, opts: { pts?: number; duration?: number; info?: VideoInfo; value?: number; discontinuity?: boolean } = {}): Frame {
  const info = opts.info ?? INFO;
  return {
    info,
    pts: opts.pts ?? index * 3600,
    duration: opts.duration ?? 3600,
    index,
    layout: 'rgb-float',
    rgb: new Float32Array(3 * info.width * info.height).fill(opts.value ?? index / 100),
    ...(opts.discontinuity ? { discontinuity: true } : {}),
  };
}

/** Push frames in, pull what came out (GstHarness for RxJS operators). */
export class Harness {
  readonly input = new Subject<Frame>();
  readonly output: Frame[] = [];
  error: unknown;
  completed = false;

  constructor(operator: OperatorFunction<Frame, Frame>) {
    this.input.pipe(operator).subscribe({
      next: (f) => this.output.push(f),
      error: (e) => (this.error = e),
      complete: () => (this.completed = true),
    });
  }

  push(frame: Frame): void {
    this.input.next(frame);
  }

  end(): void {
    this.input.complete();
  }

  /** Waits until `count` frames came out, the stream failed, or it completed. */
  async pull(count: number, timeoutMs = 5000): Promise<Frame[]> {
    const t0 = Date.now();
    while (this.output.length < count && !this.error && !this.completed) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${count} frames (have ${this.output.length})`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return this.output.slice(0, count);
  }
}

/**
 * A model that records, for every frame it is given, the state it got back (the indices of the
 * frame before and of its output, which is what it returns as state), and returns a constant image
 * (or fails).
 */
export class RecordingModel implements SrModel {
  readonly id = 'recording';
  readonly layouts: readonly PixelLayout[] = ['rgb-float'];
  readonly windows: Array<{ current: number; previousInput: number | null; previousOutput: number | null }> = [];
  disposed = false;

  constructor(
    readonly scale = 2,
    readonly usesHistory = true,
    private readonly behaviour: { delayMs?: number; failAt?: number; onRun?: () => void } = {},
  ) {}

  async configure(input: VideoInfo): Promise<VideoInfo> {
    return scaledInfo(input, this.scale);
  }

  async upscale(current: Frame, state: ModelState | undefined): Promise<ModelStep> {
    this.behaviour.onRun?.();
    const previous = state as { input: number; output: number } | undefined;
    this.windows.push({ current: current.index, previousInput: previous?.input ?? null, previousOutput: previous?.output ?? null });
    if (this.behaviour.delayMs) await new Promise((r) => setTimeout(r, this.behaviour.delayMs));
    if (this.behaviour.failAt === current.index) throw new Error(`model broke on frame ${current.index}`);
    const { width, height } = current.info;
    const rgb = new Float32Array(3 * width * height * this.scale * this.scale).fill(rgbOf(current)[0] ?? 0);
    return { pixels: { layout: 'rgb-float', rgb }, state: { input: current.index, output: current.index } };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

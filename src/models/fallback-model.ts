import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { UsageError } from '../core/errors.js';
import { blankNativePicture } from '../av/rgb-converter.js';
import type { RunStats } from '../core/stats.js';
import type { ModelState, ModelStep, SrModel } from '../inference/sr-model.js';

export interface FallbackOptions {
  /** A frame must be written within this long of its arrival. */
  readonly budgetMs: number;
  readonly stats: RunStats;
  /** performance.now, replaceable in tests. */
  readonly now?: () => number;
}

/** Weight of the newest measurement in the running estimate of the primary model's time. */
const EMA = 0.2;

/**
 * The `fallback` live policy: every frame is upscaled, by the primary model when it can finish the
 * frame before its deadline (arrival + budget, allowing for the time the output takes), else by the
 * faster fallback model (bicubic by default). The primary model's time per frame is learned as it
 * runs, starting from a warm-up on a blank frame, so the first frames are not judged on a cold start.
 * A frame the fallback model took says so (`byFallback`): superResolve counts it as a
 * `fallbackFrames`, the others as `modelFrames`.
 *
 * State: the primary model's own, passed back to it frame after frame. A fallback frame passes it
 * on untouched, so the primary's next frame continues from the last frame it computed across the
 * gap, as after frames dropped under `drop`. (Ending it instead, as this once did, made the primary
 * compute its next frame whole, without history or change-aware reuse: slower, so more frames fell
 * back, and a live run that started behind stayed at its budget with 43% of frames by bicubic.)
 * The fallback model runs without history.
 */
export class FallbackModel implements SrModel {
  readonly id: string;
  readonly scale: number;
  readonly usesHistory: boolean;
  readonly layouts: readonly PixelLayout[];
  readonly detail?: string;
  private primaryMs: number | undefined;

  constructor(
    private readonly primary: SrModel,
    private readonly fallback: SrModel,
    private readonly opts: FallbackOptions,
  ) {
    if (primary.scale !== fallback.scale) throw new UsageError(`fallback model ${fallback.id} is x${fallback.scale}, the model ${primary.id} is x${primary.scale}: they must match`);
    this.id = `${primary.id} (fallback ${fallback.id})`;
    this.scale = primary.scale;
    this.usesHistory = primary.usesHistory;
    if (primary.detail) this.detail = primary.detail;
    this.layouts = primary.layouts.filter((l) => fallback.layouts.includes(l));
    if (this.layouts.length === 0) throw new UsageError(`fallback model ${fallback.id} takes ${fallback.layouts.join('/')} pictures, ${primary.id} takes ${primary.layouts.join('/')}: no common format`);
  }

  report(): string | undefined {
    return this.primary.report?.();
  }

  /** The primary's pictures (a luma model's YUV): swscale's fallback takes any. */
  nativeInput(input: VideoInfo): VideoInfo {
    return this.primary.nativeInput?.(input) ?? this.fallback.nativeInput?.(input) ?? input;
  }

  async configure(input: VideoInfo, layout: PixelLayout = this.layouts[0]!): Promise<VideoInfo> {
    const out = await this.primary.configure(input, layout);
    const alt = await this.fallback.configure(input, layout);
    if (alt.width !== out.width || alt.height !== out.height) throw new UsageError(`fallback model ${this.fallback.id} gives ${alt.width}x${alt.height}, ${this.primary.id} gives ${out.width}x${out.height}`);
    await this.warmUp(input, layout);
    return out;
  }

  private async warmUp(input: VideoInfo, layout: PixelLayout): Promise<void> {
    const props = { info: input, pts: 0, duration: 0, index: -1 };
    const blank: Frame = layout === 'native' ? { ...props, layout, picture: blankNativePicture(input) } : { ...props, layout, rgb: new Float32Array(3 * input.width * input.height) };
    await this.fallback.upscale(blank, undefined);
    await this.primary.upscale(blank, undefined);
    await this.timed(blank, undefined); // the second run is the one that tells the steady-state time
  }

  private async timed(frame: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const now = this.opts.now ?? performance.now.bind(performance);
    const t0 = now();
    const step = await this.primary.upscale(frame, state);
    const ms = now() - t0;
    this.primaryMs = this.primaryMs === undefined ? ms : this.primaryMs + EMA * (ms - this.primaryMs);
    return step;
  }

  /** What the primary model is expected to take per frame (ms), once measured. */
  get primaryEstimateMs(): number | undefined {
    return this.primaryMs;
  }

  async upscale(frame: Frame, state: ModelState | undefined): Promise<ModelStep> {
    const { arrivedAt } = frame;
    const now = (this.opts.now ?? performance.now.bind(performance))();
    const expectedEnd = now + (this.primaryMs ?? 0) + this.outputMsPerFrame();
    if (arrivedAt === undefined || expectedEnd <= arrivedAt + this.opts.budgetMs) return this.timed(frame, state);
    const { pixels } = await this.fallback.upscale(frame, undefined);
    return { pixels, ...(state !== undefined ? { state } : {}), byFallback: true };
  }

  /** Converting and encoding one output frame, on average so far. */
  private outputMsPerFrame(): number {
    const s = this.opts.stats;
    const frames = s.get('framesOut');
    return frames > 0 ? (s.stageMs('convert-out') + s.stageMs('encode')) / frames : 0;
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([this.primary.dispose(), this.fallback.dispose()]);
  }
}

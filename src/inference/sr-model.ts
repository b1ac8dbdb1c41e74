import type { Frame, PixelLayout, Pixels, VideoInfo } from '../core/frame.js';

/**
 * What a model carries from one frame to the next (previous input and output, a diffusion
 * runtime's latents...). Opaque to everything but the model that made it: the superResolve
 * operator holds it and passes it back, so it is the one owner of temporal state.
 */
export type ModelState = unknown;

export interface ModelStep {
  /** The upscaled frame, in the layout the model was configured with. */
  readonly pixels: Pixels;
  /** To pass back with the next frame; undefined for models without history. */
  readonly state?: ModelState;
  /** Upscaled by the faster model of the `fallback` policy, not the model: counted apart. */
  readonly byFallback?: boolean;
}

/**
 * A super-resolution model behind the `superResolve` operator. Before the first frame the pipeline
 * picks one of `layouts` (libavfilter's query_formats) and calls `configure` once with it (FFmpeg's
 * config_output): the model checks the input and returns the output description. Frames then
 * arrive in that layout, and come back in it.
 */
export interface SrModel {
  readonly id: string;
  readonly scale: number;
  /** What the start line adds after the id and scale (the precision of a model that ships several). */
  readonly detail?: string;
  /** True when the model reads state from earlier frames (the pipeline gives it back). */
  readonly usesHistory: boolean;
  /** Pixel layouts the model takes and gives, the cheapest for it first. */
  readonly layouts: readonly PixelLayout[];
  /**
   * For models that take native pictures of a form of their own (a luma model: 8-bit limited-range
   * YUV): the pictures they take for a source of `input`, chosen before the first frame; the pipeline
   * converts once per frame where the source's differ. Absent: the source's pictures as they are.
   */
  nativeInput?(input: VideoInfo): VideoInfo;
  /**
   * For models that cut their own graph runs into tiles instead of being tiled on float RGB by
   * TiledModel (a luma model: its Y in tiles, the chroma scaled whole by swscale): runs larger than
   * `tile` x `tile` input pixels become overlapping tiles, blended. Called before `configure`.
   * Returns the multiple the tiles start at (tileSpans' `align`).
   */
  tilePlanes?(tile: number, overlap: number): number;
  /** `layout`: one of `layouts`; the first when not given. */
  configure(input: VideoInfo, layout?: PixelLayout): Promise<VideoInfo>;
  /**
   * Upscales `frame`. `state` is what this model returned with the previous frame, or undefined on
   * the first frame, after a discontinuity or a size change, and for models without history.
   */
  upscale(frame: Frame, state: ModelState | undefined): Promise<ModelStep>;
  /** A line for the end-of-run summary about how the model ran (change-aware compute: how much was skipped). */
  report?(): string | undefined;
  dispose(): Promise<void>;
}

/**
 * The layout a pipeline runs a model in, chosen once before the first frame: the source's own when
 * the model takes it (no conversion in), else the model's first choice (one conversion per frame).
 */
/** The pictures `model` is configured with for a source of `input` in `layout`. */
export function modelInput(model: SrModel, input: VideoInfo, layout: PixelLayout): VideoInfo {
  return layout === 'native' && model.nativeInput ? model.nativeInput(input) : input;
}

export function negotiateLayout(model: SrModel, sourceLayout: PixelLayout): PixelLayout {
  if (model.layouts.includes(sourceLayout)) return sourceLayout;
  const layout = model.layouts[0];
  if (!layout) throw new Error(`model ${model.id} declares no pixel layout`);
  if (sourceLayout === 'rgb-float') throw new Error(`model ${model.id} takes ${model.layouts.join('/')} pictures; the source gives float RGB only`);
  return layout;
}

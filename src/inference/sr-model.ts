import type { Frame, VideoInfo } from '../core/frame.js';

/** What one call of a super-resolution model sees: the current frame and, after the first, the one before. */
export interface HistoryWindow {
  readonly current: Frame;
  /** The previous input frame; null on the first frame and after a reset. */
  readonly previousInput: Frame | null;
  /** The previous output frame; null on the first frame and after a reset. */
  readonly previousOutput: Frame | null;
}

/**
 * A super-resolution model behind the `superResolve` operator. `configure` is called once before the
 * first frame (FFmpeg's config_output): it checks the input and returns the output description.
 */
export interface SrModel {
  readonly id: string;
  readonly scale: number;
  readonly usesHistory: boolean;
  configure(input: VideoInfo): Promise<VideoInfo>;
  /** Planar float RGB 0..1 of the upscaled current frame. */
  upscale(window: HistoryWindow): Promise<Float32Array>;
  dispose(): Promise<void>;
}

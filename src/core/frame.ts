import type { Rational } from './rational.js';

/** FFmpeg's colour names (av_color_space_name etc.), kept as strings so they pass through unchanged. */
export interface ColorInfo {
  /** colour matrix (AVColorSpace): 'bt709', 'smpte170m', 'bt470bg', 'bt2020nc', 'gbr', 'unknown', ... */
  readonly matrix: string;
  /** 'tv' (limited) or 'pc' (full) or 'unknown' */
  readonly range: string;
  readonly primaries: string;
  readonly transfer: string;
}

export interface VideoInfo {
  readonly width: number;
  readonly height: number;
  /** The pixel format the stream is coded in (e.g. 'yuv420p10le'); frames between stages are float RGB. */
  readonly pixelFormat: string;
  /** Time base of every pts and duration of this stream's frames. */
  readonly timeBase: Rational;
  readonly frameRate?: Rational;
  readonly sampleAspect: Rational;
  readonly color: ColorInfo;
  /** Seconds, when the container knows it (files); undefined for pipes and live streams. */
  readonly durationSeconds?: number;
}

/**
 * One picture in the causal stream. Pixels are planar float RGB in 0..1 (R plane, G plane, B plane,
 * width*height each): the model's working format, produced and consumed by swscale in the adapters.
 */
export interface Frame {
  readonly info: VideoInfo;
  /** In info.timeBase; copied through every operator, never recomputed. */
  readonly pts: number;
  /** In info.timeBase; 0 when unknown. */
  readonly duration: number;
  /** Position in decode order; gaps reveal dropped frames. */
  readonly index: number;
  readonly rgb: Float32Array;
  /**
   * Set on the first frame after a break in the stream (reconnect, resolution change): history
   * from before it must not be used.
   */
  readonly discontinuity?: boolean;
  /** performance.now() when the source received the frame: latency is measured from here to the write. */
  readonly arrivedAt?: number;
}

export function planeSize(info: Pick<VideoInfo, 'width' | 'height'>): number {
  return info.width * info.height;
}

/** A frame with new pixels and geometry, keeping pts, duration and index (av_frame_copy_props). */
export function withPixels(frame: Frame, info: VideoInfo, rgb: Float32Array): Frame {
  if (rgb.length !== 3 * planeSize(info)) {
    throw new RangeError(`pixel buffer holds ${rgb.length} values, ${info.width}x${info.height} RGB needs ${3 * planeSize(info)}`);
  }
  return {
    info,
    pts: frame.pts,
    duration: frame.duration,
    index: frame.index,
    rgb,
    ...(frame.discontinuity ? { discontinuity: true } : {}),
    ...(frame.arrivedAt !== undefined ? { arrivedAt: frame.arrivedAt } : {}),
  };
}

export function scaledInfo(info: VideoInfo, scale: number): VideoInfo {
  return { ...info, width: info.width * scale, height: info.height * scale };
}

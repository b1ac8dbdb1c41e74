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
  /** The pixel format the stream is coded in (e.g. 'yuv420p10le'); 'native' frames hold pictures in it. */
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
 * How a stage holds pixels, negotiated once before the first frame (libavfilter's query_formats):
 * - 'rgb-float': planar float RGB, R plane then G then B, each level exactly k/(2^n−1) (core/levels);
 * - 'native': the decoded picture in `info.pixelFormat` (8/10-bit YUV, RGB, gray...), untouched.
 */
export type PixelLayout = 'rgb-float' | 'native';

/** A decoded picture held by src/av (a beamcoder frame); opaque to every other folder. */
export interface NativePicture {
  readonly handle: unknown;
}

/**
 * `levels8`: where the model computed them already, the 8-bit levels of `rgb` (round(clamp(x)·255),
 * planar R,G,B), so the output conversion need not quantise again.
 */
export type Pixels = { readonly layout: 'rgb-float'; readonly rgb: Float32Array; readonly levels8?: Uint8Array } | { readonly layout: 'native'; readonly picture: NativePicture };

interface FrameProps {
  readonly info: VideoInfo;
  /** In info.timeBase; copied through every operator, never recomputed. */
  readonly pts: number;
  /** In info.timeBase; 0 when unknown. */
  readonly duration: number;
  /** Position in decode order; gaps reveal dropped frames. */
  readonly index: number;
  /**
   * Set on the first frame after a break in the stream (reconnect, resolution change): history
   * from before it must not be used.
   */
  readonly discontinuity?: boolean;
  /** performance.now() when the source received the frame: latency is measured from here to the write. */
  readonly arrivedAt?: number;
}

/** One picture in the causal stream, in the layout its stage negotiated. */
export type Frame = FrameProps & Pixels;
export type RgbFrame = FrameProps & { readonly layout: 'rgb-float'; readonly rgb: Float32Array; readonly levels8?: Uint8Array };

/** The float RGB of a frame in the 'rgb-float' layout; anything else is a negotiation bug. */
export function rgbOf(frame: Frame): Float32Array {
  if (frame.layout !== 'rgb-float') throw new Error(`frame ${frame.index} is ${frame.layout}, a stage expected rgb-float: the formats were not negotiated`);
  return frame.rgb;
}

export function planeSize(info: Pick<VideoInfo, 'width' | 'height'>): number {
  return info.width * info.height;
}

/** A frame with new pixels and geometry, keeping pts, duration and index (av_frame_copy_props). */
export function withPixels(frame: Frame, info: VideoInfo, pixels: Pixels): Frame {
  if (pixels.layout === 'rgb-float' && pixels.rgb.length !== 3 * planeSize(info)) {
    throw new RangeError(`pixel buffer holds ${pixels.rgb.length} values, ${info.width}x${info.height} RGB needs ${3 * planeSize(info)}`);
  }
  return {
    info,
    pts: frame.pts,
    duration: frame.duration,
    index: frame.index,
    ...pixels,
    ...(frame.discontinuity ? { discontinuity: true } : {}),
    ...(frame.arrivedAt !== undefined ? { arrivedAt: frame.arrivedAt } : {}),
  };
}

/** Planar float RGB as Pixels. */
export function rgbPixels(rgb: Float32Array): Pixels {
  return { layout: 'rgb-float', rgb };
}

export function scaledInfo(info: VideoInfo, scale: number): VideoInfo {
  return { ...info, width: info.width * scale, height: info.height * scale };
}

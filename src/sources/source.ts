import type { Credit } from '../core/credit.js';
import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import type { CopyPacket, CopyStream } from '../av/input.js';
import type { RunStats } from '../core/stats.js';

export type { CopyPacket, CopyStream };

export interface SourceInfo {
  readonly video: VideoInfo;
  /** Streams to copy to the output untouched. */
  readonly copyStreams: readonly CopyStream[];
  /** Streams that are neither upscaled nor copied, for a warning. */
  readonly ignored: readonly string[];
  /** Set when the video is interlaced: its field order, for a warning (frames are upscaled whole). */
  readonly interlaced?: string;
  /**
   * Where the input's time starts (µs), which file outputs subtract from every stream so that they
   * start at 0, as ffmpeg does without -copyts. Unset: timestamps are written as they are (live
   * inputs, a queued job's chunks, -copyts).
   */
  readonly startMicroseconds?: number;
  /** How its frames hold pixels: decoded pictures ('native', the default) or float RGB (test patterns). */
  readonly layout?: PixelLayout;
}

export interface ReadOptions {
  readonly credit: Credit;
  readonly signal: AbortSignal;
  readonly stats: RunStats;
  /** Receives packets of copied streams as they are read, in input order. */
  readonly onCopyPacket?: (packet: CopyPacket) => void;
  /** Things the user should hear about while reading (a picture size change mid-file). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Where frames come from. `open` probes and describes the stream before any frame is read;
 * `frames` yields one frame per acquired credit and never reads ahead without one, so sources that
 * never end (live streams) fit the same interface. Aborting the signal ends the stream cleanly.
 */
export interface Source {
  readonly label: string;
  open(): Promise<SourceInfo>;
  frames(options: ReadOptions): AsyncGenerator<Frame, void, void>;
  close(): Promise<void>;
}

import type { Frame, VideoInfo } from '../core/frame.js';
import type { Beamcoder } from '../av/beamcoder.js';
import { ffmpegReason, openInput, presentationTime, type OpenedInput } from '../av/input.js';
import { SourceError } from '../core/errors.js';
import { DecodeLoop } from '../av/decode-loop.js';
import { NegotiatedPictures } from './negotiated-pictures.js';
import { nativePicture } from '../av/rgb-converter.js';
import type { ReadOptions, Source, SourceInfo } from './source.js';
import { creditedFrames } from './credited-frames.js';

export interface AvSourceOptions {
  /** FFmpeg URL or path; '-' reads standard input. */
  readonly input: string;
  readonly format?: string;
  readonly options?: Readonly<Record<string, string>>;
  /** Read part of a file only (a chunk of a queued job): video only, no streams copied. */
  readonly range?: FrameRange;
  /** -copyts: outputs keep the input's timestamps instead of starting at 0. */
  readonly copyTimestamps?: boolean;
}

/** Part of a file's video, by presentation time in the video stream's time base. */
export interface FrameRange {
  /** Seek to the keyframe at or before this time first. */
  readonly seekTo: number;
  /** Frames before this are decoded and dropped. */
  readonly from: number;
  /** The stream ends at the first frame at or after this (undefined: the end of the file). */
  readonly until?: number;
}

/**
 * Any input FFmpeg reads: files, pipes (`-`), and URLs. Decodes the first video stream into native
 * pictures (converted later, once, to what the model takes) and hands audio and subtitle packets
 * to the sink untouched.
 */
export class AvSource implements Source {
  readonly label: string;
  private input?: OpenedInput;

  constructor(private readonly opts: AvSourceOptions) {
    this.label = opts.input === '-' ? 'stdin' : opts.input;
  }

  async open(): Promise<SourceInfo> {
    const url = this.opts.input === '-' ? 'pipe:0' : this.opts.input;
    this.input = await openInput({ url, label: this.label, ...(this.opts.format ? { format: this.opts.format } : {}), ...(this.opts.options ? { options: this.opts.options } : {}) });
    const range = this.opts.range;
    if (range) {
      try {
        await this.input.demuxer.seek({ stream_index: this.input.videoStream.index, timestamp: range.seekTo, backward: true });
      } catch (err) {
        throw new SourceError(`input '${this.label}': cannot seek to ${range.seekTo}: ${ffmpegReason(err)}`, { cause: err });
      }
      return { video: this.input.video, copyStreams: [], ignored: [] };
    }
    const { video, copyStreams, ignored, interlaced, startMicroseconds } = this.input;
    return { video, copyStreams, ignored, ...(interlaced ? { interlaced } : {}), ...(this.opts.copyTimestamps ? {} : { startMicroseconds }) };
  }

  async *frames(read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const input = this.input;
    if (!input) throw new Error('AvSource.frames() before open()');
    const loop = new DecodeLoop(input, { label: this.label, onWarning: (m) => read.onWarning?.(m), time: (stage, work) => read.stats.time(stage, work) });
    const negotiated = new NegotiatedPictures(input.video, (m) => read.onWarning?.(m));
    const copied = new Set(input.copyStreams.map((s) => s.index));
    const onOther = (packet: Beamcoder.Packet): void => {
      if (copied.has(packet.stream_index)) read.onCopyPacket?.({ streamIndex: packet.stream_index, handle: packet });
    };
    let index = 0;
    let lastPts: number | undefined;
    const range = this.opts.range;

    yield* creditedFrames(read, async () => {
      let decoded: Beamcoder.Frame | null;
      let pts: number;
      for (;;) {
        if (read.signal.aborted) return undefined;
        decoded = await loop.next(onOther);
        if (!decoded || read.signal.aborted) return undefined;
        pts = this.ptsOf(decoded, input.video, lastPts);
        if (range && lastPts === undefined && pts > range.from) {
          throw new SourceError(`input '${this.label}': seeking to ${range.seekTo} gave a first frame at ${pts}, after the wanted ${range.from}`);
        }
        lastPts = pts;
        if (range?.until !== undefined && pts >= range.until) return undefined;
        if (!range || pts >= range.from) break;
      }
      const { picture, changed } = await negotiated.convert(decoded, `input '${this.label}' frame ${index}`);
      read.stats.count('framesIn');
      return {
        info: input.video,
        pts,
        duration: decoded.pkt_duration > 0 ? decoded.pkt_duration : 0,
        index: index++,
        layout: 'native',
        picture: nativePicture(picture),
        ...(changed ? { discontinuity: true } : {}),
      };
    });
  }

  /**
   * A frame without any timestamp (rare: some raw streams) gets the previous one plus one frame
   * period, counted in the time base; everything else keeps the decoder's timestamp unchanged.
   */
  private ptsOf(frame: Beamcoder.Frame, video: VideoInfo, lastPts: number | undefined): number {
    const pts = presentationTime(frame);
    if (pts !== undefined) return pts;
    if (lastPts === undefined) return 0;
    const rate = video.frameRate;
    const step = rate ? Math.max(1, Math.round((video.timeBase.den * rate.den) / (video.timeBase.num * rate.num))) : 1;
    return lastPts + step;
  }

  async close(): Promise<void> {
    const input = this.input;
    this.input = undefined;
    if (input) {
      try {
        input.demuxer.forceClose();
      } catch {
        // already closed
      }
    }
  }
}

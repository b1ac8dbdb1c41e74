import type { Frame, VideoInfo } from '../core/frame.js';
import type { Beamcoder } from '../av/beamcoder.js';
import { openInput, presentationTime, VideoDecoder, type OpenedInput } from '../av/input.js';
import { ToFloatRgb } from '../av/rgb-converter.js';
import { SourceError } from '../core/errors.js';
import { ffmpegReason } from '../av/input.js';
import type { ReadOptions, Source, SourceInfo } from './source.js';
import { creditedFrames } from './credited-frames.js';

export interface AvSourceOptions {
  /** FFmpeg URL or path; '-' reads standard input. */
  readonly input: string;
  readonly format?: string;
  readonly options?: Readonly<Record<string, string>>;
}

/**
 * Any input FFmpeg reads: files, pipes (`-`), and URLs. Decodes the first video stream and hands
 * audio and subtitle packets to the sink untouched.
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
    return { video: this.input.video, copyStreams: this.input.copyStreams, ignored: this.input.ignored };
  }

  async *frames(read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const input = this.input;
    if (!input) throw new Error('AvSource.frames() before open()');
    const decoder = new VideoDecoder(input);
    let toRgb = await ToFloatRgb.create(input.video);
    let pictureKey = `${input.video.width}x${input.video.height} ${input.video.pixelFormat}`;
    let sizeChanges = 0;
    const videoIndex = input.videoStream.index;
    const copied = new Set(input.copyStreams.map((s) => s.index));
    const pending: Beamcoder.Frame[] = [];
    let eof = false;
    let index = 0;
    let lastPts: number | undefined;

    const readMore = async (): Promise<void> => {
      const packet = await read.stats.time('demux', () => this.readPacket(input));
      if (!packet) {
        eof = true;
        pending.push(...(await read.stats.time('decode', () => decoder.flush())));
      } else if (packet.stream_index === videoIndex) {
        pending.push(...(await read.stats.time('decode', () => decoder.decode(packet))));
      } else if (copied.has(packet.stream_index)) {
        read.onCopyPacket?.({ streamIndex: packet.stream_index, handle: packet });
      }
    };

    yield* creditedFrames(read, async () => {
      while (pending.length === 0 && !eof && !read.signal.aborted) await readMore();
      const decoded = pending.shift();
      if (!decoded || read.signal.aborted) return undefined;
      const pts = this.ptsOf(decoded, input.video, lastPts);
      lastPts = pts;
      const key = `${decoded.width}x${decoded.height} ${decoded.format ?? input.video.pixelFormat}`;
      if (key !== pictureKey) {
        // a stream whose picture size or format changes mid-file (joined clips): scaled back to the
        // size the output was opened with (as a live input is), and said
        if (sizeChanges++ < 3) read.onWarning?.(`input '${this.label}': the picture changes to ${key} at frame ${index}; scaling to ${input.video.width}x${input.video.height} to keep the output as negotiated`);
        toRgb = await ToFloatRgb.create({ ...input.video, width: decoded.width, height: decoded.height, pixelFormat: decoded.format ?? input.video.pixelFormat }, input.video);
        pictureKey = key;
      }
      const rgb = await read.stats.time('convert', () => toRgb.convert(decoded));
      read.stats.count('framesIn');
      return { info: input.video, pts, duration: decoded.pkt_duration > 0 ? decoded.pkt_duration : 0, index: index++, rgb };
    });
  }

  private async readPacket(input: OpenedInput): Promise<Beamcoder.Packet | null> {
    try {
      return await input.demuxer.read();
    } catch (err) {
      throw new SourceError(`input '${this.label}': reading failed: ${ffmpegReason(err)}`, { cause: err });
    }
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

import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { ColorInfo, VideoInfo } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { isValidRational } from '../core/rational.js';
import { isTimestamp } from '../core/timeline.js';
import { withAssumedColor } from './color.js';
import { SourceError, UsageError, errorMessage } from '../core/errors.js';

/** A stream of the input that is copied to the output untouched (audio, subtitles). */
export interface CopyStream {
  readonly index: number;
  readonly kind: string;
  readonly codec: string;
  readonly timeBase: Rational;
  /** The adapter's own stream description; only src/av reads it. */
  readonly handle: unknown;
}

/** A packet of a copied stream, in its input stream's time base. */
export interface CopyPacket {
  readonly streamIndex: number;
  readonly handle: unknown;
}

export interface OpenedInput {
  readonly demuxer: Beamcoder.Demuxer;
  readonly videoStream: Beamcoder.Stream;
  readonly video: VideoInfo;
  readonly copyStreams: readonly CopyStream[];
  /** Streams neither upscaled nor copied, described for a warning. */
  readonly ignored: readonly string[];
  /** The video's field order when the container or codec says it is interlaced ('top field first'...). */
  readonly interlaced?: string;
  /** The input's start time in microseconds (FFmpeg's start_time over all streams), 0 when unknown. */
  readonly startMicroseconds: number;
}

/** FFmpeg's interlaced field orders (AVFieldOrder), as the warning names them. */
const FIELD_ORDERS: Readonly<Record<string, string>> = {
  'top coded first, top displayed first': 'top field first',
  'bottom coded first, bottom displayed first': 'bottom field first',
  'top coded first, bottom displayed first': 'top field coded first, bottom shown first',
  'bottom coded first, top displayed first': 'bottom field coded first, top shown first',
};

export interface InputOptions {
  /** FFmpeg URL, path, or 'pipe:0'. */
  readonly url: string;
  /** Name shown in messages: the path or URL the user gave. */
  readonly label: string;
  readonly format?: string;
  readonly options?: Readonly<Record<string, string>>;
}

function pair(v: number[] | undefined): Rational {
  return { num: v?.[0] ?? 0, den: v?.[1] ?? 0 };
}

function colorOf(par: Beamcoder.CodecPar): ColorInfo {
  const tagged = {
    matrix: par.color_space || 'unknown',
    range: par.color_range || 'unknown',
    primaries: par.color_primaries || 'unknown',
    transfer: par.color_trc || 'unknown',
  };
  return withAssumedColor(par.format, tagged, par.height);
}

function describe(stream: Beamcoder.Stream): string {
  return `#${stream.index} ${stream.codecpar.codec_type} ${stream.codecpar.name}`;
}

/** FFmpeg's messages carry a prefix and sometimes the path; keep the reason only. */
export function ffmpegReason(err: unknown): string {
  const msg = errorMessage(err);
  const m = /:\s*([^:]+)$/.exec(msg);
  return (m ? m[1]! : msg).trim();
}

async function openDemuxer(opts: InputOptions): Promise<Beamcoder.Demuxer> {
  const bc = beamcoder();
  let iformat: Beamcoder.InputFormat | undefined;
  if (opts.format) {
    iformat = bc.demuxers()[opts.format];
    if (!iformat) throw new UsageError(`input '${opts.label}': unknown input format '${opts.format}'`);
  }
  try {
    return await bc.demuxer({ url: opts.url, ...(iformat ? { iformat } : {}), options: { ...opts.options } });
  } catch (err) {
    throw new UsageError(`input '${opts.label}': ${ffmpegReason(err)}`, { cause: err });
  }
}

export async function openInput(opts: InputOptions): Promise<OpenedInput> {
  const demuxer = await openDemuxer(opts);
  const streams = demuxer.streams;
  const videoStream = streams.find((s) => s.codecpar.codec_type === 'video' && !s.disposition.ATTACHED_PIC);
  if (demuxer.iformat.name === 'tty' && opts.format !== 'tty') {
    demuxer.forceClose();
    throw new UsageError(`input '${opts.label}': a text file, not a video (FFmpeg would only render it as ANSI art)`);
  }
  if (!videoStream) {
    const found = streams.length ? streams.map(describe).join(', ') : 'no streams';
    demuxer.forceClose();
    throw new UsageError(`input '${opts.label}': no video stream (found ${found})`);
  }
  const par = videoStream.codecpar;
  if (!par.width || !par.height || !par.format) {
    const what = describe(videoStream);
    demuxer.forceClose();
    throw new UsageError(`input '${opts.label}': video stream ${what} has no picture size or pixel format`);
  }
  const copyStreams: CopyStream[] = [];
  const ignored: string[] = [];
  for (const s of streams) {
    if (s === videoStream) continue;
    const kind = s.codecpar.codec_type;
    if (kind === 'audio' || kind === 'subtitle') {
      copyStreams.push({ index: s.index, kind, codec: s.codecpar.name, timeBase: pair(s.time_base), handle: s });
    } else {
      ignored.push(describe(s));
    }
  }
  const avg = pair(videoStream.avg_frame_rate);
  const real = pair(videoStream.r_frame_rate);
  const duration = demuxer.duration > 0 ? demuxer.duration / 1e6 : undefined;
  const sar = pair(par.sample_aspect_ratio);
  const video: VideoInfo = {
    width: par.width,
    height: par.height,
    pixelFormat: par.format,
    timeBase: pair(videoStream.time_base),
    ...(isValidRational(avg) ? { frameRate: avg } : isValidRational(real) ? { frameRate: real } : {}),
    sampleAspect: isValidRational(sar) ? sar : { num: 1, den: 1 },
    color: colorOf(par),
    ...(duration ? { durationSeconds: duration } : {}),
  };
  const interlaced = FIELD_ORDERS[String(par.field_order)];
  const start = Number(demuxer.start_time);
  const startMicroseconds = isTimestamp(start) ? start : 0;
  return { demuxer, videoStream, video, copyStreams, ignored, ...(interlaced ? { interlaced } : {}), startMicroseconds };
}

/** Video decoder for the chosen stream; `flush()` at the end, or the last frames are lost. */
export class VideoDecoder {
  private readonly decoder: Beamcoder.Decoder;

  constructor(input: OpenedInput) {
    // thread_count 0: as many threads as the codec can use, like ffmpeg's default
    this.decoder = beamcoder().decoder({ demuxer: input.demuxer, stream_index: input.videoStream.index, thread_count: 0 });
  }

  async decode(packet: Beamcoder.Packet): Promise<Beamcoder.Frame[]> {
    try {
      return (await this.decoder.decode(packet)).frames;
    } catch (err) {
      throw new SourceError(`decoding failed: ${ffmpegReason(err)}`, { cause: err });
    }
  }

  /**
   * beamcoder's receive loop ends, silently, at a picture that fails to decode (the cut last packet
   * of a truncated mp4): on a flush the pictures behind it in the frame threads were lost. They are
   * asked for again with an empty decode, which only receives. An empty answer is the end or one
   * more damaged picture, and there are at most as many of those as frame threads.
   */
  async flush(): Promise<Beamcoder.Frame[]> {
    try {
      const frames = (await this.decoder.flush()).frames;
      for (let empty = 0; empty < Math.max(1, this.decoder.thread_count); ) {
        const more = (await this.decoder.decode([])).frames;
        frames.push(...more);
        empty = more.length ? 0 : empty + 1;
      }
      return frames;
    } catch (err) {
      throw new SourceError(`decoding failed at end of stream: ${ffmpegReason(err)}`, { cause: err });
    }
  }
}

/** The frame's presentation time: pts, else the decoder's best guess; undefined when neither is known. */
export function presentationTime(frame: Beamcoder.Frame): number | undefined {
  const candidates = [frame.pts, (frame as unknown as { best_effort_timestamp?: number }).best_effort_timestamp];
  for (const t of candidates) {
    if (isTimestamp(t)) return t;
  }
  return undefined;
}

import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { ColorInfo } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { rescale } from '../core/rational.js';
import { BrokenPipeError, SinkError, UsageError, errorMessage } from '../core/errors.js';
import type { CopyPacket, CopyStream } from './input.js';
import { ffmpegReason } from './input.js';
import { copyRefusal, rawVideoOnly } from './containers.js';

export interface EncoderSettings {
  /** FFmpeg encoder name; default libx264 (wrapped_avframe for y4m). */
  readonly codec?: string;
  readonly crf?: number;
  readonly preset?: string;
  /** Extra private options, e.g. { tune: 'zerolatency' }. */
  readonly options?: Readonly<Record<string, string | number>>;
  readonly gopSize?: number;
  /**
   * A keyframe whenever the timestamp crosses a multiple of this many seconds: a GOP in time, which
   * holds when frames are dropped (gopSize counts frames, so 25 frames of a live output that keeps
   * one frame in four would be 4 s).
   */
  readonly keyframeSeconds?: number;
  readonly maxBFrames?: number;
  /** Encoder threads; 0 (default) lets the encoder choose, as ffmpeg does. */
  readonly threads?: number;
}

export interface OutputVideo {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  readonly timeBase: Rational;
  readonly frameRate?: Rational;
  readonly sampleAspect: Rational;
  readonly color: ColorInfo;
}

export interface OutputOptions {
  /** FFmpeg URL or path; 'pipe:1' for stdout. */
  readonly url: string;
  readonly label: string;
  /** FFmpeg muxer name. */
  readonly container: string;
  readonly video: OutputVideo;
  readonly encoder: EncoderSettings;
  readonly copyStreams: readonly CopyStream[];
  /** Muxer private options (e.g. hls_time); network outputs open their own I/O. */
  readonly muxerOptions?: Readonly<Record<string, string | number>>;
  readonly openOwnIO?: boolean;
  /** Wait this long after the last packet before the trailer closes the output (SRT). */
  readonly closeAfterMs?: number;
  /** The muxer that really holds the streams (segment: mp4, mpegts...); decides what is copied. */
  readonly innerContainer?: string;
}

export function defaultCodec(container: string): string {
  return rawVideoOnly(container) ? 'wrapped_avframe' : 'libx264';
}

/** Pixel formats an encoder takes; null when it takes any. */
export function encoderFormats(codec: string): readonly string[] | null {
  const enc = beamcoder().encoders()[codec];
  if (!enc) throw new UsageError(`unknown video encoder '${codec}'`);
  if (codec === 'wrapped_avframe') return Y4M_FORMATS;
  return enc.pix_fmts ?? null;
}

/** What FFmpeg 5.1's yuv4mpegpipe muxer writes. */
const Y4M_FORMATS = [
  'yuv420p', 'yuv422p', 'yuv444p', 'yuv411p', 'gray', 'gray9le', 'gray10le', 'gray12le', 'gray16le',
  'yuv420p9le', 'yuv422p9le', 'yuv444p9le', 'yuv420p10le', 'yuv422p10le', 'yuv444p10le',
  'yuv420p12le', 'yuv422p12le', 'yuv444p12le', 'yuv420p14le', 'yuv422p14le', 'yuv444p14le',
  'yuv420p16le', 'yuv422p16le', 'yuv444p16le',
];

function isBrokenPipe(err: unknown): boolean {
  return /broken pipe|EPIPE/i.test(errorMessage(err));
}

/**
 * Encoder + muxer. The header waits for the first encoded packet, because the encoder fills in its
 * extradata lazily and a global-header container (mp4) needs it in the header; copied packets that
 * arrive earlier wait in a queue that the credit bound keeps short.
 */
export class AvOutput {
  private readonly encoder: Beamcoder.Encoder;
  private readonly muxer: Beamcoder.Muxer;
  private readonly videoStream: Beamcoder.Stream;
  private readonly copyMap = new Map<number, { out: Beamcoder.Stream; inTb: Rational }>();
  private readonly pendingCopies: CopyPacket[] = [];
  private readonly durations = new Map<number, number>();
  private headerWritten = false;
  private closed = false;
  readonly warnings: string[] = [];
  readonly codec: string;
  packetsWritten = 0;

  /** Stream time (s) at which the next keyframe is forced (keyframeSeconds). */
  private nextKeyframeAt: number | undefined;

  private constructor(private readonly opts: OutputOptions) {
    const bc = beamcoder();
    this.codec = opts.encoder.codec ?? defaultCodec(opts.container);
    try {
      this.muxer = bc.muxer({ format_name: opts.container });
    } catch (err) {
      throw new UsageError(`output '${opts.label}': unknown container '${opts.container}'`, { cause: err });
    }
    // muxers that open their own I/O (rtsp, hls, segment) connect to or write to this in writeHeader
    this.muxer.url = opts.url;
    const globalHeader = Boolean((this.muxer.oformat as unknown as { flags: { GLOBALHEADER?: boolean } }).flags.GLOBALHEADER);
    this.encoder = this.makeEncoder(globalHeader);
    this.videoStream = this.muxer.newStream({ name: this.codec === 'wrapped_avframe' ? 'wrapped_avframe' : this.encoder.name, time_base: [opts.video.timeBase.num, opts.video.timeBase.den], interleaved: true });
    this.describeVideoStream();
    for (const copy of opts.copyStreams) this.addCopyStream(copy);
  }

  static async open(opts: OutputOptions): Promise<AvOutput> {
    const out = new AvOutput(opts);
    if (opts.openOwnIO !== false && !((out.muxer.oformat as unknown as { flags: { NOFILE?: boolean } }).flags.NOFILE)) {
      try {
        await out.muxer.openIO({ url: opts.url, options: {} });
      } catch (err) {
        throw new UsageError(`output '${opts.label}': cannot open for writing: ${ffmpegReason(err)}`, { cause: err });
      }
    }
    return out;
  }

  private makeEncoder(globalHeader: boolean): Beamcoder.Encoder {
    const { video, encoder: settings } = this.opts;
    const priv: Record<string, string | number> = { ...settings.options };
    if (this.codec.startsWith('libx264') || this.codec.startsWith('libx265')) {
      if (settings.preset) priv.preset = settings.preset;
      if (settings.crf !== undefined) priv.crf = settings.crf;
    }
    const params: Record<string, unknown> = {
      name: this.codec,
      width: video.width,
      height: video.height,
      pix_fmt: video.pixelFormat,
      time_base: [video.timeBase.num, video.timeBase.den],
      sample_aspect_ratio: [video.sampleAspect.num, video.sampleAspect.den],
      color_range: video.color.range,
      colorspace: video.color.matrix,
      color_primaries: video.color.primaries,
      color_trc: video.color.transfer,
      priv_data: priv,
      thread_count: settings.threads ?? 0,
    };
    if (video.frameRate) params.framerate = [video.frameRate.num, video.frameRate.den];
    if (settings.gopSize !== undefined) params.gop_size = settings.gopSize;
    if (settings.maxBFrames !== undefined) params.max_b_frames = settings.maxBFrames;
    if (globalHeader) params.flags = { GLOBAL_HEADER: true };
    try {
      return beamcoder().encoder(params as { name: string });
    } catch (err) {
      throw new UsageError(`output '${this.opts.label}': cannot set up encoder ${this.codec}: ${ffmpegReason(err)}`, { cause: err });
    }
  }

  private describeVideoStream(): void {
    const { video } = this.opts;
    Object.assign(this.videoStream.codecpar, {
      width: video.width,
      height: video.height,
      format: video.pixelFormat,
      sample_aspect_ratio: [video.sampleAspect.num, video.sampleAspect.den],
      color_range: video.color.range,
      color_space: video.color.matrix,
      color_primaries: video.color.primaries,
      color_trc: video.color.transfer,
    });
    this.videoStream.sample_aspect_ratio = [video.sampleAspect.num, video.sampleAspect.den];
    if (video.frameRate) this.videoStream.avg_frame_rate = [video.frameRate.num, video.frameRate.den];
  }

  private addCopyStream(copy: CopyStream): void {
    const refusal = copyRefusal(this.opts.innerContainer ?? this.opts.container, copy.kind, copy.codec);
    if (refusal) {
      this.warnings.push(`input stream #${copy.index} (${copy.kind}, ${copy.codec}) is not copied: ${refusal}`);
      return;
    }
    const input = copy.handle as Beamcoder.Stream;
    const out = this.muxer.newStream({ name: copy.codec, time_base: [copy.timeBase.num, copy.timeBase.den] });
    copyStreamParams(input, out);
    out.time_base = [copy.timeBase.num, copy.timeBase.den];
    // The input container's codec tag (mp4's 'mp4a') means nothing to another container (Matroska
    // refuses it); as ffmpeg does for stream copy, let the output muxer choose its own.
    (out.codecpar as unknown as { codec_tag: number }).codec_tag = 0;
    this.copyMap.set(copy.index, { out, inTb: copy.timeBase });
  }

  /** Copied input streams that made it into the output. */
  get copiedStreams(): readonly number[] {
    return [...this.copyMap.keys()];
  }

  async writeVideo(frame: Beamcoder.Frame): Promise<void> {
    this.durations.set(frame.pts, frame.pkt_duration);
    this.forceKeyframeOnTime(frame);
    let packets: Beamcoder.Packet[];
    try {
      packets = (await this.encoder.encode(frame)).packets;
    } catch (err) {
      throw new SinkError(`encoding with ${this.codec} failed: ${ffmpegReason(err)}`, { cause: err });
    }
    await this.writeVideoPackets(packets);
  }

  async writeCopy(packet: CopyPacket): Promise<void> {
    if (!this.copyMap.has(packet.streamIndex)) return;
    if (!this.headerWritten) {
      this.pendingCopies.push(packet);
      return;
    }
    await this.writeCopyNow(packet);
  }

  private async writeCopyNow(packet: CopyPacket): Promise<void> {
    const target = this.copyMap.get(packet.streamIndex)!;
    const pkt = packet.handle as Beamcoder.Packet;
    const outTb = pairOf(target.out.time_base);
    pkt.stream_index = target.out.index;
    retime(pkt, target.inTb, outTb);
    await this.mux(pkt);
  }

  /** Marks the frame as a keyframe (pict_type I) when its time reaches the next keyframeSeconds mark. */
  private forceKeyframeOnTime(frame: Beamcoder.Frame): void {
    const every = this.opts.encoder.keyframeSeconds;
    if (!every || frame.pts === null || frame.pts === undefined) return;
    const tb = this.opts.video.timeBase;
    const t = (frame.pts * tb.num) / tb.den;
    if (this.nextKeyframeAt !== undefined && t < this.nextKeyframeAt - 1e-6) return;
    frame.pict_type = 'I';
    this.nextKeyframeAt = (Math.floor(t / every + 1e-6) + 1) * every;
  }

  private async writeVideoPackets(packets: Beamcoder.Packet[]): Promise<void> {
    for (const pkt of packets) {
      if (!this.headerWritten) await this.writeHeader();
      const encTb = this.opts.video.timeBase;
      if (!pkt.duration) pkt.duration = this.durations.get(pkt.pts) ?? 0;
      this.durations.delete(pkt.pts);
      pkt.stream_index = this.videoStream.index;
      retime(pkt, encTb, pairOf(this.videoStream.time_base));
      await this.mux(pkt);
      this.packetsWritten++;
    }
  }

  private async writeHeader(): Promise<void> {
    this.adoptEncoderParams();
    try {
      await this.muxer.writeHeader({ ...this.opts.muxerOptions });
    } catch (err) {
      if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
      throw new SinkError(`output '${this.opts.label}': cannot write the header: ${ffmpegReason(err)}`, { cause: err });
    }
    this.headerWritten = true;
    for (const p of this.pendingCopies.splice(0)) await this.writeCopyNow(p);
  }

  /**
   * Copies what only the opened encoder knows (extradata, codec tag, profile) into the stream.
   * Field by field: assigning a whole codecpar object to a stream swaps beamcoder's native pointer.
   */
  private adoptEncoderParams(): void {
    const params = this.encoder.extractParams() as Record<string, unknown>;
    const par = this.videoStream.codecpar as unknown as Record<string, unknown>;
    for (const key of ['codec_tag', 'bits_per_coded_sample', 'bits_per_raw_sample', 'profile', 'level', 'field_order', 'chroma_location', 'video_delay']) {
      const value = params[key];
      if (value !== undefined && value !== null) par[key] = value;
    }
    const extradata = params.extradata as Buffer | null | undefined;
    if (extradata && extradata.length) par.extradata = extradata;
  }

  private async mux(pkt: Beamcoder.Packet): Promise<void> {
    try {
      await this.muxer.writeFrame(pkt);
    } catch (err) {
      if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
      throw new SinkError(`output '${this.opts.label}': writing failed: ${ffmpegReason(err)}`, { cause: err });
    }
  }

  /** Drains the encoder and writes the trailer, so the file is complete and playable. */
  async finish(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let packets: Beamcoder.Packet[] = [];
    try {
      packets = (await this.encoder.flush()).packets;
    } catch (err) {
      throw new SinkError(`flushing ${this.codec} failed: ${ffmpegReason(err)}`, { cause: err });
    }
    await this.writeVideoPackets(packets);
    if (!this.headerWritten) await this.writeHeader();
    if (this.opts.closeAfterMs) await new Promise((resolve) => setTimeout(resolve, this.opts.closeAfterMs));
    try {
      await this.muxer.writeTrailer();
    } catch (err) {
      if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
      throw new SinkError(`output '${this.opts.label}': cannot finish the file: ${ffmpegReason(err)}`, { cause: err });
    }
  }

  /** Gives up without a trailer (used only when the output itself broke). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.muxer.forceClose();
    } catch {
      // already closed by FFmpeg
    }
  }
}

/**
 * Copies a copied stream's description field by field. Handing the input stream to newStream would
 * make the output share the input's AVCodecParameters (beamcoder swaps the pointer), which dangle
 * once that input is closed: a live source closes its connection on every reconnect while the
 * output (and the segment and HLS muxers, which copy the parameters at every new file) goes on.
 */
function copyStreamParams(input: Beamcoder.Stream, out: Beamcoder.Stream): void {
  const from = input.codecpar as unknown as { toJSON(): Record<string, unknown>; extradata: Buffer | null };
  const to = out.codecpar as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(from.toJSON())) {
    if (['type', 'name', 'codec_id', 'codec_type', 'extradata'].includes(key) || value === null || value === undefined) continue;
    to[key] = value;
  }
  if (from.extradata && from.extradata.length) to.extradata = Buffer.from(from.extradata);
  if (input.metadata) out.metadata = { ...input.metadata };
  out.disposition = { ...input.disposition };
}

function pairOf(v: number[]): Rational {
  return { num: v[0] ?? 1, den: v[1] ?? 1 };
}

function retime(pkt: Beamcoder.Packet, from: Rational, to: Rational): void {
  const valid = (t: number | null | undefined): t is number => typeof t === 'number' && Number.isFinite(t) && t > -9.2e18;
  if (valid(pkt.pts)) pkt.pts = rescale(pkt.pts, from, to);
  if (valid(pkt.dts)) pkt.dts = rescale(pkt.dts, from, to);
  if (pkt.duration) pkt.duration = rescale(pkt.duration, from, to);
}

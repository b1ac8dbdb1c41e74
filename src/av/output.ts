import { closeSync, openSync } from 'node:fs';
import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { ColorInfo } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { rescale } from '../core/rational.js';
import { BrokenPipeError, SinkError, UnwritableOutputError, UsageError, errorMessage } from '../core/errors.js';
import type { CopyPacket, CopyStream } from './input.js';
import { ffmpegReason } from './input.js';
import { copyRefusal, notCopied, rawVideoOnly } from './containers.js';
import { MonotonicTimestamps, isTimestamp } from '../core/timeline.js';

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
  /** Things the user should hear about while the file is written (timestamps repaired, y4m timing). */
  readonly onWarning?: (message: string) => void;
  /** Subtracted from every stream's timestamps (µs): the input's start, so the output starts at 0. */
  readonly startMicroseconds?: number;
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

/** The pixel formats of the y4m specification; the muxer writes FFmpeg's others only when told (-strict -1). */
const Y4M_OFFICIAL = ['yuv420p', 'yuv422p', 'yuv444p', 'yuv411p', 'gray'];

/** What FFmpeg 5.1's yuv4mpegpipe muxer writes: the official formats and FFmpeg's deeper ones (C420p10...). */
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
  /** yuv4mpegpipe: no timestamps in the file, its one frame rate is the stream time base's inverse. */
  private readonly y4m: boolean;
  private readonly videoTimes = new MonotonicTimestamps();
  private readonly copyTimes = new Map<number, MonotonicTimestamps>();
  private lastVideoPts: number | undefined;
  private y4mTimingWarned = false;
  /** Input timestamps that went backwards and were moved to follow on (video frames, copied packets). */
  timestampsRepaired = 0;
  /** Copied packets the muxer refused as damaged, left out. */
  copiesDropped = 0;
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
    this.y4m = opts.container === 'yuv4mpegpipe';
    if (this.y4m && !Y4M_OFFICIAL.includes(opts.video.pixelFormat)) {
      // as ffmpeg with -strict -1: deeper pictures kept, as FFmpeg's own readers (and x264's) take them
      this.muxer.strict_std_compliance = 'unofficial';
      this.warnings.push(`output '${opts.label}': ${opts.video.pixelFormat} is written as FFmpeg's extension of y4m (what ffmpeg writes with -strict -1); y4m readers other than FFmpeg's may not take it (--pix-fmt yuv420p for plain 8-bit y4m)`);
    }
    // yuv4mpegpipe writes 1/time_base as the F rate: give it the frame rate's inverse, as ffmpeg does
    const streamTb = this.y4m ? y4mTimeBase(opts.video.frameRate) : opts.video.timeBase;
    this.videoStream = this.muxer.newStream({ name: this.codec === 'wrapped_avframe' ? 'wrapped_avframe' : this.encoder.name, time_base: [streamTb.num, streamTb.den], interleaved: true });
    this.describeVideoStream();
    for (const copy of opts.copyStreams) this.addCopyStream(copy);
  }

  static async open(opts: OutputOptions): Promise<AvOutput> {
    const out = new AvOutput(opts);
    if (!opts.video.frameRate && out.y4m) opts.onWarning?.(`output '${opts.label}': the input states no frame rate; y4m declares 25 fps`);
    // before the file exists: a bad preset or option must not leave an empty file behind
    await out.checkEncoderOpens();
    if (opts.openOwnIO !== false && !((out.muxer.oformat as unknown as { flags: { NOFILE?: boolean } }).flags.NOFILE)) {
      checkWritable(opts.url, opts.label);
      try {
        await out.muxer.openIO({ url: opts.url, options: {} });
      } catch (err) {
        throw new UsageError(`output '${opts.label}': cannot open for writing: ${ffmpegReason(err)}`, { cause: err });
      }
    }
    return out;
  }

  /**
   * beamcoder opens an encoder lazily, at its first frame, and then neither its encode() nor
   * (reliably) its flush() says that the open failed (a bad preset gives ~100 "No codec provided" lines at
   * the end). Opening a throwaway copy on one blank frame finds it before anything is written.
   */
  private async checkEncoderOpens(): Promise<void> {
    if (this.codec === 'wrapped_avframe') return;
    const bc = beamcoder();
    const { video } = this.opts;
    const level = bc.logging();
    bc.logging('quiet');
    try {
      const probe = this.makeEncoder(false);
      const blank = bc.frame({ width: video.width, height: video.height, format: video.pixelFormat, pts: 0 }).alloc();
      // a failed open is not always reported (beamcoder loses the status now and then), but an
      // encoder that opened gives a packet for its one frame once flushed
      const packets = (await probe.encode(blank)).packets.length + (await probe.flush()).packets.length;
      if (packets === 0) throw new Error('the encoder did not open: Invalid argument');
    } catch (err) {
      const what = this.codec.startsWith('libx26') ? ` (preset '${this.opts.encoder.preset ?? 'medium'}', crf ${this.opts.encoder.crf ?? 'default'}${this.privateOptionText()})` : this.privateOptionText();
      throw new UsageError(`output '${this.opts.label}': encoder ${this.codec} refuses its settings${what}: ${ffmpegReason(err)}`, { cause: err });
    } finally {
      bc.logging(level);
    }
  }

  private privateOptionText(): string {
    const o = this.opts.encoder.options;
    return o && Object.keys(o).length ? `, options ${Object.entries(o).map(([k, v]) => `${k}=${v}`).join(',')}` : '';
  }

  private makeEncoder(globalHeader: boolean): Beamcoder.Encoder {
    const { video, encoder: settings } = this.opts;
    const priv: Record<string, string | number> = { ...settings.options };
    if (this.codec.startsWith('libx264') || this.codec.startsWith('libx265')) {
      if (settings.preset) priv.preset = settings.preset;
      if (settings.crf !== undefined) priv.crf = settings.crf;
    }
    checkPrivateOptions(this.codec, priv, this.opts.label);
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
      this.warnings.push(notCopied(copy, refusal));
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
    if (this.opts.startMicroseconds && typeof frame.pts === 'number') frame.pts -= this.startIn(this.opts.video.timeBase);
    const step = frame.pkt_duration > 0 ? frame.pkt_duration : this.framePeriod();
    const pts = this.videoTimes.map(frame.pts, step);
    if (this.videoTimes.lastShift) this.repaired(`frame pts ${frame.pts} came after ${this.lastVideoPts ?? '?'}, time base ${this.opts.video.timeBase.num}/${this.opts.video.timeBase.den}`);
    frame.pts = pts;
    if (this.y4m) this.checkY4mTiming(frame.pts);
    this.lastVideoPts = frame.pts;
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
    if (this.opts.startMicroseconds) shiftPacket(pkt, -this.startIn(target.inTb));
    this.repairCopyTimes(packet.streamIndex, pkt);
    const outTb = pairOf(target.out.time_base);
    pkt.stream_index = target.out.index;
    retime(pkt, target.inTb, outTb);
    try {
      await this.muxer.writeFrame(pkt);
    } catch (err) {
      // a damaged copied packet (a corrupted ADTS header the aac_adtstoasc filter rejects) would
      // end the whole run, as it does in ffmpeg with -c:a copy: drop that packet, count it and say so
      if (!/Invalid data/i.test(errorMessage(err))) return this.failedWrite(err);
      this.copiesDropped++;
      if (this.copiesDropped <= 3) this.opts.onWarning?.(`input stream #${packet.streamIndex}: a damaged packet the muxer refuses (${ffmpegReason(err)}) is left out`);
    }
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
      if (this.y4m) {
        // one picture per packet, in order: the stream time base is one frame
        pkt.pts = pkt.dts = this.packetsWritten;
        pkt.duration = 1;
      } else {
        retime(pkt, encTb, pairOf(this.videoStream.time_base));
      }
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
      this.failedWrite(err);
    }
  }

  private failedWrite(err: unknown): never {
    if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
    throw new SinkError(`output '${this.opts.label}': writing failed: ${ffmpegReason(err)}`, { cause: err });
  }

  /**
   * Drains the encoder and writes the trailer, so the file is complete and playable. Returns false,
   * with nothing written, when not one video frame reached the output: a header and trailer
   * around no frames is a file no player opens (a Matroska file without its codec private data).
   */
  async finish(): Promise<boolean> {
    if (this.closed) return this.packetsWritten > 0;
    this.closed = true;
    let packets: Beamcoder.Packet[] = [];
    try {
      packets = (await this.encoder.flush()).packets;
    } catch (err) {
      throw new SinkError(`flushing ${this.codec} failed: ${ffmpegReason(err)}`, { cause: err });
    }
    await this.writeVideoPackets(packets);
    if (!this.headerWritten) {
      this.closeWithoutTrailer();
      return false;
    }
    if (this.opts.closeAfterMs) await new Promise((resolve) => setTimeout(resolve, this.opts.closeAfterMs));
    try {
      await this.muxer.writeTrailer();
    } catch (err) {
      if (isBrokenPipe(err)) throw new BrokenPipeError({ cause: err });
      throw new SinkError(`output '${this.opts.label}': cannot finish the file: ${ffmpegReason(err)}`, { cause: err });
    }
    return true;
  }

  /** Gives up without a trailer (used only when the output itself broke). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeWithoutTrailer();
  }

  private closeWithoutTrailer(): void {
    try {
      this.muxer.forceClose();
    } catch {
      // already closed by FFmpeg
    }
  }

  /** The input's start time in a stream's time base (rounded as FFmpeg's av_rescale_q does). */
  private startIn(tb: Rational): number {
    return rescale(this.opts.startMicroseconds ?? 0, { num: 1, den: 1_000_000 }, tb);
  }

  /** One frame in the encoder's time base, from the frame rate (1 when unknown). */
  private framePeriod(): number {
    const { frameRate, timeBase } = this.opts.video;
    if (!frameRate) return 1;
    return Math.max(1, Math.round((timeBase.den * frameRate.den) / (timeBase.num * frameRate.num)));
  }

  private repaired(what: string): void {
    this.timestampsRepaired++;
    if (this.timestampsRepaired <= 3) {
      this.opts.onWarning?.(`input timestamps went backwards (${what}); this and the following frames are moved to follow on, as ffmpeg does at an MPEG-TS discontinuity`);
    }
  }

  /** A copied stream's packets follow the same rule as the video, each stream on its own. */
  private repairCopyTimes(index: number, pkt: Beamcoder.Packet): void {
    const at = isTimestamp(pkt.dts) ? pkt.dts : isTimestamp(pkt.pts) ? pkt.pts : undefined;
    if (at === undefined) return;
    let times = this.copyTimes.get(index);
    if (!times) this.copyTimes.set(index, (times = new MonotonicTimestamps()));
    const shift = times.map(at, pkt.duration > 0 ? pkt.duration : 1) - at;
    if (times.lastShift) this.timestampsRepaired++;
    if (shift !== 0) shiftPacket(pkt, shift);
  }

  /** y4m carries no timestamps: a variable frame timing plays at the one declared rate. */
  private checkY4mTiming(pts: number): void {
    if (this.y4mTimingWarned || this.lastVideoPts === undefined) return;
    const period = this.framePeriod();
    const delta = pts - this.lastVideoPts;
    if (Math.abs(delta - period) * 4 > period) {
      this.y4mTimingWarned = true;
      const r = this.opts.video.frameRate;
      this.opts.onWarning?.(`output '${this.opts.label}': the input's frame timing varies (a step of ${delta} instead of ${period} in ${this.opts.video.timeBase.num}/${this.opts.video.timeBase.den}) but y4m has no timestamps: every frame is kept and plays at ${r ? `${r.num}/${r.den}` : '25'} fps, so the duration changes`);
    }
  }
}

/**
 * A plain file path is opened for writing by Node first: beamcoder's openIO, when avio_open2 fails
 * (a read-only file system), now and then resolves as if it had opened the file, and the header
 * write then dies natively on the missing I/O context. Failing here names the reason instead.
 */
function checkWritable(url: string, label: string): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return;
  try {
    closeSync(openSync(url, 'w'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EROFS' ? 'Read-only file system' : (err as NodeJS.ErrnoException).code === 'EACCES' ? 'Permission denied' : errorMessage(err);
    throw new UnwritableOutputError(`output '${label}': cannot open for writing: ${reason}`, { cause: err });
  }
}

/** yuv4mpegpipe's F rate is 1/time_base; without a stated rate, 25 fps as ffmpeg assumes. */
function y4mTimeBase(rate: Rational | undefined): Rational {
  return rate && rate.num > 0 && rate.den > 0 ? { num: rate.den, den: rate.num } : { num: 1, den: 25 };
}

/**
 * The encoder settings checked without a picture (an unknown encoder, preset, tune, option, a crf
 * out of range): what a queued job checks before it is put on the queue, where every chunk would
 * fail the same way.
 */
export function checkEncoderSettings(settings: EncoderSettings, container: string, label: string): void {
  const codec = settings.codec ?? defaultCodec(container);
  encoderFormats(codec);
  const priv: Record<string, string | number> = { ...settings.options };
  if (codec.startsWith('libx264') || codec.startsWith('libx265')) {
    if (settings.preset) priv.preset = settings.preset;
    if (settings.crf !== undefined) priv.crf = settings.crf;
  }
  checkPrivateOptions(codec, priv, label);
}

/** Quality range that x264 and x265 take (8-bit); FFmpeg's option allows any float and x264 clamps. */
const CRF_RANGE = { min: 0, max: 51 };

/** x264's and x265's preset and tune names (x264_preset_names, x265_preset_names...): x264 prints its own refusal straight to stderr. */
const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];
const TUNES: Record<string, readonly string[]> = {
  libx264: ['film', 'animation', 'grain', 'stillimage', 'psnr', 'ssim', 'fastdecode', 'zerolatency'],
  libx265: ['psnr', 'ssim', 'grain', 'zerolatency', 'fastdecode', 'animation'],
};

/**
 * Private options FFmpeg does not know, or a crf out of range, are only printed by beamcoder (on
 * stdout) and then ignored: refuse them as ffmpeg does ("Unrecognized option").
 */
function checkPrivateOptions(codec: string, priv: Record<string, string | number>, label: string): void {
  const known = (beamcoder().encoders()[codec] as unknown as { priv_class?: { options?: Record<string, unknown> } } | undefined)?.priv_class?.options;
  for (const [key, value] of Object.entries(priv)) {
    if (known && !(key in known)) throw new UsageError(`output '${label}': encoder ${codec} has no option '${key}'`);
    const family = /^libx26[45]/.exec(codec)?.[0];
    if (key === 'preset' && family && !PRESETS.includes(String(value))) throw new UsageError(`output '${label}': unknown ${codec} preset '${value}' (${PRESETS.join(', ')})`);
    if (key === 'tune' && family && !String(value).split(/[,+]/).every((t) => TUNES[family]!.includes(t))) throw new UsageError(`output '${label}': unknown ${codec} tune '${value}' (${TUNES[family]!.join(', ')})`);
    if (key === 'crf' && /^libx26[45]/.test(codec)) {
      const crf = Number(value);
      if (!Number.isFinite(crf) || crf < CRF_RANGE.min || crf > CRF_RANGE.max) throw new UsageError(`output '${label}': --crf ${value} is out of range (${CRF_RANGE.min}..${CRF_RANGE.max} for ${codec})`);
    }
  }
}

/**
 * Copies a copied stream's description field by field. Handing the input stream to newStream would
 * make the output share the input's AVCodecParameters (beamcoder swaps the pointer), which dangle
 * once that input is closed: a live source closes its connection on every reconnect while the
 * output (and the segment and HLS muxers, which copy the parameters at every new file) goes on.
 */
export function copyStreamParams(input: Beamcoder.Stream, out: Beamcoder.Stream): void {
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

export function pairOf(v: number[]): Rational {
  return { num: v[0] ?? 1, den: v[1] ?? 1 };
}

function shiftPacket(pkt: Beamcoder.Packet, by: number): void {
  if (isTimestamp(pkt.pts)) pkt.pts += by;
  if (isTimestamp(pkt.dts)) pkt.dts += by;
}

export function retime(pkt: Beamcoder.Packet, from: Rational, to: Rational): void {
  if (isTimestamp(pkt.pts)) pkt.pts = rescale(pkt.pts, from, to);
  if (isTimestamp(pkt.dts)) pkt.dts = rescale(pkt.dts, from, to);
  if (pkt.duration) pkt.duration = rescale(pkt.duration, from, to);
}

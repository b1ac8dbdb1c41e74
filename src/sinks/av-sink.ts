import type { Frame, VideoInfo } from '../core/frame.js';
import { BrokenPipeError, UsageError } from '../core/errors.js';
import { AvOutput, defaultCodec, encoderFormats, type EncoderSettings } from '../av/output.js';
import { FromFloatRgb } from '../av/rgb-converter.js';
import { chooseOutputFormat } from '../av/pixel-formats.js';
import { outputColor } from '../av/color.js';
import { muxerForPath, muxerName, SUPPORTED_FORMATS } from '../av/containers.js';
import type { RunStats } from '../core/stats.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';

export interface AvSinkOptions {
  /** Path, URL, or '-' for standard output. */
  readonly output: string;
  /** Container: -f value (y4m, nut, matroska, mpegts, mp4, ...); else from the extension. */
  readonly format?: string;
  readonly encoder: EncoderSettings;
  /** --pix-fmt */
  readonly pixelFormat?: string;
  readonly stats: RunStats;
  readonly muxerOptions?: Readonly<Record<string, string | number>>;
  readonly openOwnIO?: boolean;
  /** Wait this long after the last packet before closing the output (SRT). */
  readonly closeAfterMs?: number;
  /** The muxer inside a segment/hls muxer, which decides what is copied. */
  readonly innerContainer?: string;
}

/** Containers that can be written front to back, without seeking: what a pipe can carry. */
const PIPE_FORMATS = ['y4m', 'nut', 'matroska', 'mpegts'];
const PIPE_MUXERS = new Set(['yuv4mpegpipe', 'nut', 'matroska', 'mpegts', 'flv']);

/** Resolves the FFmpeg muxer for an output, or throws a UsageError that says how to name one. */
export function resolveContainer(output: string, format: string | undefined): string {
  if (format) {
    const name = muxerName(format);
    if (!name) throw new UsageError(`-f ${format}: unknown output format (known: ${SUPPORTED_FORMATS.join(', ')})`);
    if (output === '-' && !PIPE_MUXERS.has(name)) {
      throw new UsageError(`-f ${format}: cannot be written to a pipe (it needs to seek back); use ${PIPE_FORMATS.join(', ')} for -o -`);
    }
    return name;
  }
  if (output === '-') throw new UsageError(`output '-': name the stream format with -f (${PIPE_FORMATS.join(', ')})`);
  const byExtension = muxerForPath(output);
  if (!byExtension) throw new UsageError(`output '${output}': cannot tell the container from the file name; use -f`);
  return byExtension;
}

/** Encodes and muxes into a file, a pipe or a URL through FFmpeg. */
export class AvSink implements Sink {
  readonly label: string;
  private output?: AvOutput;
  private toPixels?: FromFloatRgb;
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private description = '';
  readonly warnings: string[] = [];

  constructor(private readonly opts: AvSinkOptions) {
    this.label = opts.output === '-' ? 'stdout' : opts.output;
  }

  async open(video: VideoInfo, source: SourceInfo): Promise<void> {
    const container = resolveContainer(this.opts.output, this.opts.format);
    const codec = this.opts.encoder.codec ?? defaultCodec(container);
    const pixelFormat = chooseOutputFormat(source.video.pixelFormat, encoderFormats(codec), this.opts.pixelFormat);
    const color = outputColor(source.video.pixelFormat, source.video.color, pixelFormat, video.height);
    const target = { ...video, pixelFormat, color };
    this.toPixels = await FromFloatRgb.create(target);
    this.output = await AvOutput.open({
      url: this.opts.output === '-' ? 'pipe:1' : this.opts.output,
      label: this.label,
      container,
      video: target,
      encoder: { ...this.opts.encoder, codec },
      copyStreams: source.copyStreams,
      ...(this.opts.muxerOptions ? { muxerOptions: this.opts.muxerOptions } : {}),
      ...(this.opts.openOwnIO !== undefined ? { openOwnIO: this.opts.openOwnIO } : {}),
      ...(this.opts.closeAfterMs ? { closeAfterMs: this.opts.closeAfterMs } : {}),
      ...(this.opts.innerContainer ? { innerContainer: this.opts.innerContainer } : {}),
    });
    this.warnings.push(...this.output.warnings);
    if (pixelFormat !== source.video.pixelFormat && !this.opts.pixelFormat) {
      this.warnings.push(`${codec} does not take ${source.video.pixelFormat}; writing ${pixelFormat}`);
    }
    this.description = `${this.label}: ${container}, ${codec} ${pixelFormat} ${video.width}x${video.height} (${color.matrix}/${color.range})`;
  }

  describe(): string {
    return this.description;
  }

  write(frame: Frame): Promise<void> {
    return this.enqueue(async () => {
      const avFrame = await this.opts.stats.time('convert-out', () => this.toPixels!.convert(frame.rgb, frame.pts, frame.duration));
      await this.opts.stats.time('encode', () => this.output!.writeVideo(avFrame));
    });
  }

  writeCopy(packet: CopyPacket): Promise<void> {
    const done = this.enqueue(() => this.output!.writeCopy(packet));
    // a failure here is reported by the next write or by close
    done.catch((err: unknown) => {
      this.failure ??= err;
    });
    return done;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => {
      if (this.failure) throw this.failure;
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(reason: CloseReason): Promise<void> {
    const output = this.output;
    if (!output) return;
    await this.queue;
    this.output = undefined;
    if (this.failure instanceof BrokenPipeError) {
      output.abandon();
      return;
    }
    try {
      await output.finish();
    } catch (err) {
      output.abandon();
      if (reason === 'eof') throw err;
    }
  }
}

import type { Frame, VideoInfo } from '../core/frame.js';
import { BrokenPipeError, UsageError } from '../core/errors.js';
import { AvOutput, defaultCodec, encoderFormats, type EncoderSettings } from '../av/output.js';
import { TargetConverter } from '../av/to-target.js';
import { chooseOutputFormat } from '../av/pixel-formats.js';
import { outputColor } from '../av/color.js';
import { muxerForPath, muxerName, SUPPORTED_FORMATS } from '../av/containers.js';
import type { RunStats } from '../core/stats.js';
import type { Logger } from '../core/log.js';
import { rmSync } from 'node:fs';
import { stdoutStreamFd } from '../core/stream-fd.js';
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
  /** Where warnings raised while writing go (repaired timestamps, y4m timing). */
  readonly log?: Logger;
  /** A plain file that got no frame at all is deleted rather than left unplayable. */
  readonly removeIfEmpty?: boolean;
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
  /** Frames that reach this sink in another form than `accepts()` (a tee's second output) are converted here. */
  private toEncoder?: TargetConverter;
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
    this.toEncoder = new TargetConverter(target);
    this.output = await AvOutput.open({
      url: this.opts.output === '-' ? `pipe:${stdoutStreamFd()}` : this.opts.output,
      label: this.label,
      container,
      video: target,
      encoder: { ...this.opts.encoder, codec },
      copyStreams: source.copyStreams,
      ...(source.startMicroseconds ? { startMicroseconds: source.startMicroseconds } : {}),
      ...(this.opts.muxerOptions ? { muxerOptions: this.opts.muxerOptions } : {}),
      ...(this.opts.openOwnIO !== undefined ? { openOwnIO: this.opts.openOwnIO } : {}),
      ...(this.opts.closeAfterMs ? { closeAfterMs: this.opts.closeAfterMs } : {}),
      ...(this.opts.innerContainer ? { innerContainer: this.opts.innerContainer } : {}),
      onWarning: (m) => this.opts.log?.warn(m),
    });
    this.warnings.push(...this.output.warnings);
    // yuvjNNN is yuvNNN in full range, a range the output states in its tags: the same pixels, nothing to warn of
    const sameAsFullRange = source.video.pixelFormat === `yuvj${pixelFormat.slice(3)}` && color.range === 'pc';
    if (pixelFormat !== source.video.pixelFormat && !this.opts.pixelFormat && !sameAsFullRange) {
      this.warnings.push(`${codec} does not take ${source.video.pixelFormat}; writing ${pixelFormat}`);
    }
    this.description = `${this.label}: ${container}, ${codec} ${pixelFormat} ${video.width}x${video.height} (${color.matrix}/${color.range})`;
  }

  describe(): string {
    return this.description;
  }

  accepts(): VideoInfo {
    if (!this.toEncoder) throw new Error('AvSink.accepts() before open()');
    return this.toEncoder.target;
  }

  write(frame: Frame): Promise<void> {
    return this.enqueue(async () => {
      const toEncoder = this.toEncoder!;
      let avFrame;
      if (toEncoder.matches(frame)) {
        avFrame = await toEncoder.convert(frame);
      } else {
        avFrame = await this.opts.stats.time('convert-out', () => toEncoder.convert(frame));
        this.opts.stats.count('conversionsOut');
      }
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
      const wroteFrames = await output.finish();
      if (output.copiesDropped > 0) this.opts.log?.warn(`${this.label}: ${output.copiesDropped} damaged packets of copied streams left out`);
      if (output.timestampsRepaired > 0) this.opts.log?.warn(`${this.label}: ${output.timestampsRepaired} backwards input timestamps repaired (frames and copied packets moved to follow on; none dropped)`);
      if (!wroteFrames) this.removeEmpty(reason);
    } catch (err) {
      output.abandon();
      if (reason === 'eof') throw err;
    }
  }

  /** No frame reached the output: leave no file that players cannot open, and say so. */
  private removeEmpty(reason: CloseReason): void {
    // on a failure the error follows this line: say it failed, not that it was stopped
    const why = reason === 'eof' ? 'the input has no video frames' : reason === 'error' ? 'the run failed before the first frame' : 'stopped before the first frame';
    if (this.opts.removeIfEmpty) {
      rmSync(this.opts.output, { force: true });
      this.opts.log?.warn(`${this.label}: ${why}; no file written`);
    } else {
      this.opts.log?.warn(`${this.label}: ${why}; nothing written`);
    }
  }
}

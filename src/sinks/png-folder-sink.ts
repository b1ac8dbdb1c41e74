import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame, VideoInfo } from '../core/frame.js';
import { SinkError, errorMessage } from '../core/errors.js';
import { PngEncoder, pngPicture } from '../av/png-encoder.js';
import { chooseOutputFormat } from '../av/pixel-formats.js';
import { notCopied } from '../av/containers.js';
import type { RunStats } from '../core/stats.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';

export interface PngFolderSinkOptions {
  /** Folder the pictures go into; created when missing. */
  readonly dir: string;
  /**
   * File name of the frame with this index, the `written`th picture (the `frames` command keeps the
   * input's names; an `-o out-%04d.png` numbers what it writes). May throw a SinkError.
   */
  readonly nameOf: (index: number, written: number) => string;
  readonly stats?: RunStats;
  /** Pixel formats it may write; the one nearest to the input's format is chosen (default: rgb24 only). */
  readonly formats?: readonly string[];
  /** --pix-fmt: one of `formats`. */
  readonly pixelFormat?: string;
  /** How the log names it (default: the folder). */
  readonly label?: string;
}

/**
 * Writes each frame as an RGB PNG file (8-bit, or the nearest of `formats` to the frames' format).
 * Files are written under a temporary name and renamed, so an interrupted run never leaves a
 * truncated picture behind under a real frame's name.
 */
export class PngFolderSink implements Sink {
  readonly label: string;
  readonly warnings: string[] = [];
  private encoder?: PngEncoder;
  private description = '';
  private video?: VideoInfo;
  private pixelFormat = 'rgb24';
  written = 0;

  constructor(private readonly opts: PngFolderSinkOptions) {
    this.label = opts.label ?? opts.dir;
  }

  async open(video: VideoInfo, source: SourceInfo): Promise<void> {
    // from the input's format, as the video outputs choose theirs: 10-bit input gives 16-bit PNG
    // whatever depth the model works at
    this.pixelFormat = chooseOutputFormat(source.video.pixelFormat, this.opts.formats ?? ['rgb24'], this.opts.pixelFormat);
    for (const copy of source.copyStreams) this.warnings.push(notCopied(copy, `PNG pictures carry no ${copy.kind}`));
    try {
      await mkdir(this.opts.dir, { recursive: true });
    } catch (err) {
      throw new SinkError(`output folder '${this.opts.dir}': ${errorMessage(err)}`, { cause: err });
    }
    this.encoder = await PngEncoder.create(video.width, video.height, this.pixelFormat);
    this.video = video;
    this.description = `${this.label}: png ${this.pixelFormat} ${video.width}x${video.height}`;
  }

  describe(): string {
    return this.description;
  }

  accepts(): VideoInfo {
    if (!this.video) throw new Error('PngFolderSink.accepts() before open()');
    return pngPicture(this.video.width, this.video.height, this.pixelFormat);
  }

  async write(frame: Frame): Promise<void> {
    const { width, height } = frame.info;
    const path = join(this.opts.dir, this.opts.nameOf(frame.index, this.written));
    if (!this.encoder || this.encoder.width !== width || this.encoder.height !== height) this.encoder = await PngEncoder.create(width, height, this.pixelFormat);
    const encoder = this.encoder;
    const png = await this.time('encode', () => encoder.encode(frame));
    const partial = `${path}.partial-${process.pid}`;
    try {
      await writeFile(partial, png);
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw new SinkError(`cannot write '${path}': ${errorMessage(err)}`, { cause: err });
    }
    this.written++;
  }

  private time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    return this.opts.stats ? this.opts.stats.time(stage, work) : work();
  }

  async writeCopy(_packet: CopyPacket): Promise<void> {
    // picture folders carry no audio or subtitles; sources that feed them have none
  }

  async close(_reason: CloseReason): Promise<void> {
    this.encoder = undefined;
  }
}

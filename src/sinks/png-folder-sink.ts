import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame, VideoInfo } from '../core/frame.js';
import { SinkError, errorMessage } from '../core/errors.js';
import { PngEncoder, pngPicture } from '../av/png-encoder.js';
import type { RunStats } from '../core/stats.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';

export interface PngFolderSinkOptions {
  /** Folder the pictures go into; created when missing. */
  readonly dir: string;
  /** File name of the frame with this index (the `frames` command keeps the input's names). */
  readonly nameOf: (index: number) => string;
  readonly stats?: RunStats;
}

/**
 * Writes each frame as an 8-bit RGB PNG file. Files are written under a temporary name and renamed,
 * so an interrupted run never leaves a truncated picture behind under a real frame's name.
 */
export class PngFolderSink implements Sink {
  readonly label: string;
  readonly warnings: string[] = [];
  private encoder?: PngEncoder;
  private description = '';
  private video?: VideoInfo;
  written = 0;

  constructor(private readonly opts: PngFolderSinkOptions) {
    this.label = opts.dir;
  }

  async open(video: VideoInfo, _source: SourceInfo): Promise<void> {
    try {
      await mkdir(this.opts.dir, { recursive: true });
    } catch (err) {
      throw new SinkError(`output folder '${this.opts.dir}': ${errorMessage(err)}`, { cause: err });
    }
    this.encoder = await PngEncoder.create(video.width, video.height);
    this.video = video;
    this.description = `${this.opts.dir}: png rgb24 ${video.width}x${video.height}`;
  }

  describe(): string {
    return this.description;
  }

  accepts(): VideoInfo {
    if (!this.video) throw new Error('PngFolderSink.accepts() before open()');
    return pngPicture(this.video.width, this.video.height);
  }

  async write(frame: Frame): Promise<void> {
    const { width, height } = frame.info;
    if (!this.encoder || this.encoder.width !== width || this.encoder.height !== height) this.encoder = await PngEncoder.create(width, height);
    const encoder = this.encoder;
    const png = await this.time('encode', () => encoder.encode(frame));
    const path = join(this.opts.dir, this.opts.nameOf(frame.index));
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

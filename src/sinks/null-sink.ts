import type { Frame, VideoInfo } from '../core/frame.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';

/** Discards frames (FFmpeg's `-f null`): for benchmarks and tests; keeps what it saw if asked. */
export class NullSink implements Sink {
  readonly label = 'null';
  readonly warnings: string[] = [];
  readonly frames: Frame[] = [];
  copies = 0;
  closedWith: CloseReason | undefined;
  opened: VideoInfo | undefined;

  constructor(private readonly opts: { keep?: boolean; onWrite?: (frame: Frame) => Promise<void> | void } = {}) {}

  async open(video: VideoInfo, _source: SourceInfo): Promise<void> {
    this.opened = video;
  }

  describe(): string {
    return 'null';
  }

  /** Frames as the model gives them, unconverted. */
  accepts(): null {
    return null;
  }

  async write(frame: Frame): Promise<void> {
    await this.opts.onWrite?.(frame);
    if (this.opts.keep) this.frames.push(frame);
  }

  async writeCopy(_packet: CopyPacket): Promise<void> {
    this.copies++;
  }

  async close(reason: CloseReason): Promise<void> {
    this.closedWith = reason;
  }
}

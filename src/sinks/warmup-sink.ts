import type { Frame, VideoInfo } from '../core/frame.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';

/**
 * Drops the frames before `writeFrom` (pts): they went through the model only to give it its
 * history (a chunk's warm-up frames, decoded from before the chunk's first keyframe), so the first
 * frame written is upscaled as it would be in one run from the start of the file.
 */
export class WarmupSink implements Sink {
  /** Frames that reached the model and were not written. */
  warmupFrames = 0;
  written = 0;

  constructor(
    private readonly inner: Sink,
    private readonly writeFrom: number,
  ) {}

  get label(): string {
    return this.inner.label;
  }

  get warnings(): readonly string[] {
    return this.inner.warnings;
  }

  open(video: VideoInfo, source: SourceInfo): Promise<void> {
    return this.inner.open(video, source);
  }

  accepts(): VideoInfo | null {
    return this.inner.accepts();
  }

  async write(frame: Frame): Promise<void> {
    if (frame.pts < this.writeFrom) {
      this.warmupFrames++;
      return;
    }
    this.written++;
    await this.inner.write(frame);
  }

  writeCopy(packet: CopyPacket): Promise<void> {
    return this.inner.writeCopy(packet);
  }

  close(reason: CloseReason): Promise<void> {
    return this.inner.close(reason);
  }

  describe(): string {
    return `${this.inner.describe()} (frames before pts ${this.writeFrom}: warm-up, not written)`;
  }
}

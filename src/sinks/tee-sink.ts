import type { Frame, VideoInfo } from '../core/frame.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';
import type { CloseReason, Sink } from './sink.js';
import { duplicateCopyPacket, duplicateFrame } from '../av/packets.js';

/**
 * Several outputs of one pipeline (an HLS folder for viewers and a recording, say): every frame and
 * copied packet goes to each. A failing output fails the pipeline (the service restarts it); on
 * close every output is finalized even when another one fails.
 */
export class TeeSink implements Sink {
  readonly label: string;

  constructor(private readonly sinks: readonly Sink[]) {
    if (sinks.length === 0) throw new RangeError('TeeSink needs at least one output');
    this.label = sinks.map((s) => s.label).join(', ');
  }

  get warnings(): readonly string[] {
    return this.sinks.flatMap((s) => s.warnings.map((w) => (this.sinks.length > 1 ? `${s.label}: ${w}` : w)));
  }

  async open(video: VideoInfo, source: SourceInfo): Promise<void> {
    for (const sink of this.sinks) await sink.open(video, source);
  }

  /** The first output's format: outputs that want another one convert for themselves. */
  accepts(): VideoInfo | null {
    return this.sinks[0]!.accepts();
  }

  describe(): string {
    return this.sinks.map((s) => s.describe()).join(' + ');
  }

  async write(frame: Frame): Promise<void> {
    const frames = this.sinks.map((_, i) => (i === 0 ? frame : duplicateFrame(frame))); // each encoder retimes and tags its own
    await Promise.all(this.sinks.map((s, i) => s.write(frames[i]!)));
  }

  async writeCopy(packet: CopyPacket): Promise<void> {
    const copies = this.sinks.map((_, i) => (i === 0 ? packet : duplicateCopyPacket(packet))); // before any muxer rewrites it
    await Promise.all(this.sinks.map((s, i) => s.writeCopy(copies[i]!)));
  }

  async close(reason: CloseReason): Promise<void> {
    const results = await Promise.allSettled(this.sinks.map((s) => s.close(reason)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

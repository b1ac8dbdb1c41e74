import type { Frame, VideoInfo } from '../core/frame.js';
import type { CopyPacket, SourceInfo } from '../sources/source.js';

export type CloseReason = 'eof' | 'abort' | 'error';

/**
 * Where frames go. `open` negotiates the output format from the final VideoInfo before the first
 * frame; `write` resolves once the frame is handed to the encoder; `close` drains and finalizes the
 * output so that it is playable whatever the reason.
 */
export interface Sink {
  readonly label: string;
  open(video: VideoInfo, source: SourceInfo): Promise<void>;
  /**
   * After open: the pictures it encodes (pixel format, size, colour). The pipeline converts each
   * frame into this once, before the sink; a frame in any other form is converted by the sink.
   * null: it takes frames as the model gives them (the null sink).
   */
  accepts(): VideoInfo | null;
  write(frame: Frame): Promise<void>;
  writeCopy(packet: CopyPacket): Promise<void>;
  close(reason: CloseReason): Promise<void>;
  /** Things the user should know about (streams not copied, format changes). */
  readonly warnings: readonly string[];
  /** One line describing the negotiated output, for the log. */
  describe(): string;
}

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
  write(frame: Frame): Promise<void>;
  writeCopy(packet: CopyPacket): Promise<void>;
  close(reason: CloseReason): Promise<void>;
  /** Things the user should know about (streams not copied, format changes). */
  readonly warnings: readonly string[];
  /** One line describing the negotiated output, for the log. */
  describe(): string;
}

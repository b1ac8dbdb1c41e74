import type { Rational } from '../core/rational.js';
import { SourceError } from '../core/errors.js';
import { isTimestamp } from '../core/timeline.js';
import { ffmpegReason, openInput } from './input.js';

/** The video stream of a file as its packets say, without decoding a picture. */
export interface VideoScan {
  readonly timeBase: Rational;
  /** Presentation times of every video frame, in order (the stream's time base). */
  readonly pts: readonly number[];
  /** Presentation times of the keyframes (where a decoder can start), in order. */
  readonly keyframes: readonly number[];
}

/**
 * Reads every packet of the first video stream (no decoding: a 60 s clip takes milliseconds) and
 * lists the frames' presentation times and which of them are keyframes, as ffprobe -show_packets.
 */
export async function scanVideo(url: string, label: string): Promise<VideoScan> {
  const input = await openInput({ url, label });
  const index = input.videoStream.index;
  const pts: number[] = [];
  const keyframes: number[] = [];
  try {
    for (;;) {
      let packet;
      try {
        packet = await input.demuxer.read();
      } catch (err) {
        throw new SourceError(`input '${label}': reading failed: ${ffmpegReason(err)}`, { cause: err });
      }
      if (!packet) break;
      if (packet.stream_index !== index) continue;
      const t = isTimestamp(packet.pts) ? packet.pts : isTimestamp(packet.dts) ? packet.dts : undefined;
      if (t === undefined) throw new SourceError(`input '${label}': a video packet without a timestamp; it cannot be split into chunks`);
      pts.push(t);
      if (packet.flags.KEY) keyframes.push(t);
    }
  } finally {
    input.demuxer.forceClose();
  }
  pts.sort((a, b) => a - b);
  keyframes.sort((a, b) => a - b);
  return { timeBase: input.video.timeBase, pts, keyframes };
}

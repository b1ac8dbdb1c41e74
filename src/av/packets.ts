import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { CopyPacket } from './input.js';
import type { Frame } from '../core/frame.js';
import { avFrameOf, nativePicture } from './rgb-converter.js';

/**
 * A copy of a copied-stream packet for a second output: the muxer rewrites a packet's stream index
 * and timestamps in place, so each output needs its own (the payload buffer is shared, unchanged).
 */
export function duplicateCopyPacket(packet: CopyPacket): CopyPacket {
  const p = packet.handle as Beamcoder.Packet;
  const copy = beamcoder().packet({
    pts: p.pts,
    dts: p.dts,
    duration: p.duration,
    stream_index: p.stream_index,
    flags: p.flags,
    // beamcoder's data carries FFmpeg's 64 bytes of padding beyond size, and setting data does not
    // set size: without it the copy was an empty packet (the second output of a tee had no audio)
    data: p.data,
    size: p.size,
  } as unknown as Beamcoder.Packet);
  return { streamIndex: packet.streamIndex, handle: copy };
}

/**
 * A frame for a second output: a native picture gets its own AVFrame over the same pixel buffers
 * (no copy), because each output sets the picture's pts, colour tags and picture type (forced
 * keyframes) in place before its encoder reads them on another thread. Float frames are converted
 * by each output into a new picture anyway.
 */
export function duplicateFrame(frame: Frame): Frame {
  if (frame.layout !== 'native') return frame;
  const f = avFrameOf(frame.picture);
  const copy = beamcoder().frame({ width: f.width, height: f.height, format: f.format, linesize: [...f.linesize], data: f.data } as unknown as Beamcoder.Frame);
  return { ...frame, picture: nativePicture(copy) };
}

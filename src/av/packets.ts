import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { CopyPacket } from './input.js';

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
    // data carries FFmpeg's 64 bytes of padding beyond size; a packet made from all of it grows by 64
    data: p.data.subarray(0, p.size),
  } as unknown as Beamcoder.Packet);
  return { streamIndex: packet.streamIndex, handle: copy };
}

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
    // beamcoder's data carries FFmpeg's 64 bytes of padding beyond size, and setting data does not
    // set size: without it the copy was an empty packet (the second output of a tee had no audio)
    data: p.data,
    size: p.size,
  } as unknown as Beamcoder.Packet);
  return { streamIndex: packet.streamIndex, handle: copy };
}

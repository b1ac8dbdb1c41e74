import type { Beamcoder } from './beamcoder.js';
import { openInput, VideoDecoder } from './input.js';
import { UsageError } from '../core/errors.js';

/** Decodes the single picture of an image file (PNG, JPEG, ...). */
export async function decodeImage(path: string): Promise<Beamcoder.Frame> {
  const input = await openInput({ url: path, label: path });
  try {
    const decoder = new VideoDecoder(input);
    for (;;) {
      const packet = await input.demuxer.read();
      const frames = packet ? (packet.stream_index === input.videoStream.index ? await decoder.decode(packet) : []) : await decoder.flush();
      if (frames[0]) return frames[0];
      if (!packet) throw new UsageError(`image '${path}': no picture in the file`);
    }
  } finally {
    input.demuxer.forceClose();
  }
}

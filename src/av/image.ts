import type { Beamcoder } from './beamcoder.js';
import { openInput } from './input.js';
import { DecodeLoop } from './decode-loop.js';
import { UsageError } from '../core/errors.js';

/** Decodes the single picture of an image file (PNG, JPEG, ...). */
export async function decodeImage(path: string): Promise<Beamcoder.Frame> {
  const input = await openInput({ url: path, label: path });
  try {
    const picture = await new DecodeLoop(input, { label: path }).next();
    if (!picture) throw new UsageError(`image '${path}': no picture in the file`);
    return picture;
  } finally {
    input.demuxer.forceClose();
  }
}

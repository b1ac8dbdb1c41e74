import type { Beamcoder } from './beamcoder.js';
import type { VideoInfo } from '../core/frame.js';
import { SourceError } from '../core/errors.js';
import { openInput, type OpenedInput } from './input.js';
import { DecodeLoop } from './decode-loop.js';
import { makeFilterer, runFilter, toRgbFilterSpec } from './rgb-converter.js';

/**
 * Reads a video (or an image) frame by frame as packed 8-bit RGB, rows without padding: the form
 * quality metrics are defined on. Colour conversion is the same accurate swscale path the upscaler
 * reads with, so RGB sources come through bit for bit.
 */
export class Rgb24Reader {
  private constructor(
    readonly label: string,
    private readonly input: OpenedInput,
    private readonly loop: DecodeLoop,
    private readonly filterer: Beamcoder.Filterer,
  ) {}

  static async open(path: string): Promise<Rgb24Reader> {
    const input = await openInput({ url: path, label: path });
    try {
      const filterer = await makeFilterer(input.video, 'rgb24', toRgbFilterSpec(input.video));
      return new Rgb24Reader(path, input, new DecodeLoop(input, { label: path }), filterer);
    } catch (err) {
      input.demuxer.forceClose();
      throw err;
    }
  }

  get video(): VideoInfo {
    return this.input.video;
  }

  /** The next frame as width*height*3 bytes (R,G,B per pixel), or null at the end. */
  async next(): Promise<Buffer | null> {
    const decoded = await this.loop.next();
    if (!decoded) return null;
    const { width, height } = this.input.video;
    if (decoded.width !== width || decoded.height !== height) {
      throw new SourceError(`input '${this.label}': a frame of ${decoded.width}x${decoded.height} in a ${width}x${height} stream`);
    }
    return packRows(await runFilter(this.filterer, decoded), width, height);
  }

  close(): void {
    try {
      this.input.demuxer.forceClose();
    } catch {
      // already closed
    }
  }
}

function packRows(frame: Beamcoder.Frame, width: number, height: number): Buffer {
  const src = frame.data[0]!;
  const stride = frame.linesize[0]!;
  const row = width * 3;
  if (stride === row) return Buffer.from(src.subarray(0, row * height));
  const out = Buffer.allocUnsafe(row * height);
  for (let y = 0; y < height; y++) src.copy(out, y * row, y * stride, y * stride + row);
  return out;
}

import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import { SinkError, errorMessage } from '../core/errors.js';
import { FromFloatRgb } from './rgb-converter.js';
import { ffmpegReason } from './input.js';

const PICTURE = {
  pixelFormat: 'rgb24',
  color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  timeBase: { num: 1, den: 25 },
  sampleAspect: { num: 1, den: 1 },
} as const;

/**
 * Planar float RGB 0..1 → PNG file bytes (8-bit RGB, as the reference tool writes its frames),
 * through swscale's accurate rounding and FFmpeg's png encoder. One picture in, one file out.
 */
export class PngEncoder {
  private constructor(
    readonly width: number,
    readonly height: number,
    private readonly toRgb24: FromFloatRgb,
    private readonly encoder: Beamcoder.Encoder,
  ) {}

  static async create(width: number, height: number): Promise<PngEncoder> {
    const toRgb24 = await FromFloatRgb.create({ ...PICTURE, width, height });
    let encoder: Beamcoder.Encoder;
    try {
      encoder = beamcoder().encoder({ name: 'png', width, height, pix_fmt: 'rgb24', time_base: [1, 25] } as { name: string });
    } catch (err) {
      throw new SinkError(`cannot set up FFmpeg's png encoder: ${errorMessage(err)}`, { cause: err });
    }
    return new PngEncoder(width, height, toRgb24, encoder);
  }

  async encode(rgb: Float32Array, index: number): Promise<Buffer> {
    const frame = await this.toRgb24.convert(rgb, index, 1);
    let packets: Beamcoder.Packet[];
    try {
      packets = (await this.encoder.encode(frame)).packets;
    } catch (err) {
      throw new SinkError(`png encoding failed: ${ffmpegReason(err)}`, { cause: err });
    }
    const data = packets[0]?.data;
    if (packets.length !== 1 || !data) throw new SinkError(`the png encoder gave ${packets.length} packets for one picture`);
    return Buffer.from(data);
  }
}

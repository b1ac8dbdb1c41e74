import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import { SinkError, errorMessage } from '../core/errors.js';
import type { Frame, VideoInfo } from '../core/frame.js';
import { TargetConverter } from './to-target.js';
import { ffmpegReason } from './input.js';

const PICTURE: Omit<VideoInfo, 'width' | 'height'> = {
  pixelFormat: 'rgb24',
  color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  timeBase: { num: 1, den: 25 },
  sampleAspect: { num: 1, den: 1 },
};

/** The pictures PNG files are written from: 8-bit RGB, full range. */
export function pngPicture(width: number, height: number): VideoInfo {
  return { ...PICTURE, width, height };
}

/**
 * Frames → PNG file bytes (8-bit RGB, as the reference tool writes its frames): float RGB by exact
 * quantisation (round(x·255)), native pictures by swscale's accurate path when they are not rgb24
 * already, then FFmpeg's png encoder. One picture in, one file out.
 */
export class PngEncoder {
  private constructor(
    readonly width: number,
    readonly height: number,
    private readonly toRgb24: TargetConverter,
    private readonly encoder: Beamcoder.Encoder,
  ) {}

  static async create(width: number, height: number): Promise<PngEncoder> {
    const toRgb24 = new TargetConverter(pngPicture(width, height));
    let encoder: Beamcoder.Encoder;
    try {
      encoder = beamcoder().encoder({ name: 'png', width, height, pix_fmt: 'rgb24', time_base: [1, 25] } as { name: string });
    } catch (err) {
      throw new SinkError(`cannot set up FFmpeg's png encoder: ${errorMessage(err)}`, { cause: err });
    }
    return new PngEncoder(width, height, toRgb24, encoder);
  }

  async encode(picture: Frame): Promise<Buffer> {
    const frame = await this.toRgb24.convert({ ...picture, pts: picture.index, duration: 1 });
    let packets: Beamcoder.Packet[];
    try {
      packets = (await this.encoder.encode(frame)).packets;
    } catch (err) {
      throw new SinkError(`png encoding failed: ${ffmpegReason(err)}`, { cause: err });
    }
    const packet = packets[0];
    if (packets.length !== 1 || !packet?.data) throw new SinkError(`the png encoder gave ${packets.length} packets for one picture`);
    // a packet's data carries FFmpeg's 64 bytes of input padding beyond its size: not part of the file
    return Buffer.from(packet.data.subarray(0, packet.size));
  }
}

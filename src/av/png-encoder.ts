import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import { SinkError, errorMessage } from '../core/errors.js';
import type { Frame, VideoInfo } from '../core/frame.js';
import { TargetConverter } from './to-target.js';
import { ffmpegReason } from './input.js';

const PICTURE: Omit<VideoInfo, 'width' | 'height' | 'pixelFormat'> = {
  color: { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' },
  timeBase: { num: 1, den: 25 },
  sampleAspect: { num: 1, den: 1 },
};

/** RGB formats FFmpeg's png encoder writes: 8 and 16 bits, with and without alpha. */
export const PNG_PIXEL_FORMATS: readonly string[] = ['rgb24', 'rgba', 'rgb48be', 'rgba64be'];

/** The pictures PNG files are written from: RGB (8-bit unless asked), full range. */
export function pngPicture(width: number, height: number, pixelFormat = 'rgb24'): VideoInfo {
  return { ...PICTURE, pixelFormat, width, height };
}

/**
 * Frames → PNG file bytes (8-bit RGB by default, as the reference tool writes its frames): float RGB
 * by exact quantisation (round(x·255)), native pictures by swscale's accurate path when they are not
 * in the PNG's format already, then FFmpeg's png encoder. One picture in, one file out.
 */
export class PngEncoder {
  private constructor(
    readonly width: number,
    readonly height: number,
    private readonly toPicture: TargetConverter,
    private readonly encoder: Beamcoder.Encoder,
  ) {}

  static async create(width: number, height: number, pixelFormat = 'rgb24'): Promise<PngEncoder> {
    const toPicture = new TargetConverter(pngPicture(width, height, pixelFormat));
    let encoder: Beamcoder.Encoder;
    try {
      encoder = beamcoder().encoder({ name: 'png', width, height, pix_fmt: pixelFormat, time_base: [1, 25] } as { name: string });
    } catch (err) {
      throw new SinkError(`cannot set up FFmpeg's png encoder: ${errorMessage(err)}`, { cause: err });
    }
    return new PngEncoder(width, height, toPicture, encoder);
  }

  async encode(picture: Frame): Promise<Buffer> {
    const frame = await this.toPicture.convert({ ...picture, pts: picture.index, duration: 1 });
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

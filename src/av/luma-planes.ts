import type { ColorInfo, NativePicture, VideoInfo } from '../core/frame.js';
import { levelTable } from '../core/levels.js';
import { avFrameOf, nativePicture, NativeScaler } from './rgb-converter.js';
import { formatTraits } from './pixel-formats.js';

/** 8-bit planar YUV by chroma subsampling (log2 of the horizontal and vertical factors). */
const YUV8: Record<string, string> = { '0,0': 'yuv444p', '1,0': 'yuv422p', '1,1': 'yuv420p', '0,1': 'yuv440p', '2,0': 'yuv411p', '2,2': 'yuv410p' };

/**
 * The pictures a luma model takes for `input` (its query_formats): 8-bit planar YUV, limited range,
 * Y read as its codes k/255. A source already in that form is taken as it is; any other is converted
 * once per frame: deeper or full-range YUV to the 8-bit limited-range format of the same chroma
 * subsampling and matrix, RGB and gray to yuv444p with the BT.601 matrix (the luma the models are
 * trained on and PSNR-Y is measured on).
 */
export function lumaModelInput(input: VideoInfo): VideoInfo {
  const traits = formatTraits(input.pixelFormat);
  // an unknown range is taken as limited, as decoders and players do for YUV
  if (traits.family === 'yuv' && traits.depth === 8 && !traits.float && !traits.alpha && !input.pixelFormat.startsWith('yuvj') && input.color.range !== 'pc') return input;
  const yuv = traits.family === 'yuv';
  const pixelFormat = yuv ? (YUV8[`${traits.chromaW},${traits.chromaH}`] ?? 'yuv444p') : 'yuv444p';
  const matrix = yuv && input.color.matrix !== 'unknown' ? input.color.matrix : 'smpte170m';
  const color: ColorInfo = { ...input.color, matrix, range: 'tv' };
  return { ...input, pixelFormat, color };
}

/**
 * Y in, Y out; chroma by swscale: reads a picture's Y plane as float codes k/255 for the model,
 * scales the whole picture with swscale's bicubic (exactly ffmpeg's `scale=...:flags=bicubic`, so
 * chroma is what the bicubic model gives) and puts the model's Y levels in place of the scaled Y.
 */
export class LumaPlanes {
  private readonly table = levelTable(8);

  private constructor(
    private readonly scaler: NativeScaler,
    private readonly width: number,
    private readonly height: number,
  ) {}

  /** `input`: as lumaModelInput gave it; `scale`: the model's factor. */
  static async create(input: VideoInfo, scale: number): Promise<LumaPlanes> {
    const traits = formatTraits(input.pixelFormat);
    if (traits.family !== 'yuv' || traits.depth !== 8) throw new Error(`a luma model takes 8-bit YUV pictures, not ${input.pixelFormat}`);
    return new LumaPlanes(await NativeScaler.create(input, input.width * scale, input.height * scale, 'bicubic'), input.width, input.height);
  }

  /** The Y plane as k/255, row after row without the line padding. */
  read(picture: NativePicture): Float32Array {
    const frame = avFrameOf(picture);
    const { width, height, table } = this;
    const buf = frame.data[0]!;
    const stride = frame.linesize[0]!;
    const src = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const y = new Float32Array(width * height);
    for (let r = 0, o = 0; r < height; r++) {
      const row = r * stride;
      for (let x = 0; x < width; x++) y[o++] = table[src[row + x]!]!;
    }
    return y;
  }

  /** The picture scaled by swscale's bicubic: its chroma is the output's; its Y is replaced by `withLuma`. */
  async scaled(picture: NativePicture): Promise<NativePicture> {
    return nativePicture(await this.scaler.scale(avFrameOf(picture)));
  }

  /** Writes 8-bit Y levels (row after row, `width` wide) into a scaled picture's Y plane. */
  withLuma(picture: NativePicture, levels: Uint8Array): NativePicture {
    const frame = avFrameOf(picture);
    const { width, height } = frame;
    if (levels.length !== width * height) throw new RangeError(`${levels.length} Y levels for a ${width}x${height} picture`);
    const buf = frame.data[0]!;
    const stride = frame.linesize[0]!;
    if (stride === width) buf.set(levels);
    else for (let r = 0; r < height; r++) buf.set(levels.subarray(r * width, (r + 1) * width), r * stride);
    return picture;
  }
}

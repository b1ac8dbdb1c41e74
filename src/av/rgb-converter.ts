import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { ColorInfo } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { scaleColorOptions } from './color.js';
import { formatTraits } from './pixel-formats.js';

/** Accurate swscale paths: the fast yuv→rgb path is off by 2.5 levels on average (platform notes). */
const SWS_FLAGS = 'flags=bicubic+accurate_rnd+full_chroma_int+full_chroma_inp+bitexact';
const FLOAT_RGB = 'gbrpf32le';

export interface PictureFormat {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  readonly color: ColorInfo;
  readonly timeBase: Rational;
  readonly sampleAspect: Rational;
}

type AvFrame = Beamcoder.Frame;

export async function makeFilterer(input: PictureFormat, output: string, spec: string): Promise<Beamcoder.Filterer> {
  return beamcoder().filterer({
    filterType: 'video',
    inputParams: [
      {
        width: input.width,
        height: input.height,
        pixelFormat: input.pixelFormat,
        timeBase: [input.timeBase.num, input.timeBase.den],
        pixelAspect: [input.sampleAspect.num || 1, input.sampleAspect.den || 1],
      },
    ],
    outputParams: [{ pixelFormat: output }],
    filterSpec: spec,
  });
}

export async function runFilter(filterer: Beamcoder.Filterer, frame: AvFrame): Promise<AvFrame> {
  const result = await filterer.filter([frame]);
  const out = result[0]?.frames[0];
  if (!out) throw new Error('swscale produced no frame');
  return out;
}

/** Copies G,B,R float planes (with line padding) into one planar R,G,B Float32Array. */
export function floatPlanesToRgb(frame: AvFrame): Float32Array {
  const { width, height } = frame;
  const size = width * height;
  const rgb = new Float32Array(3 * size);
  const order = [2, 0, 1]; // gbrp stores G,B,R; we want R,G,B
  order.forEach((plane, c) => {
    const buf = frame.data[plane]!;
    const stride = frame.linesize[plane]! / 4;
    const src = new Float32Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 4));
    if (stride === width) rgb.set(src.subarray(0, size), c * size);
    else for (let y = 0; y < height; y++) rgb.set(src.subarray(y * stride, y * stride + width), c * size + y * width);
  });
  return rgb;
}

/** swscale's SIMD paths want planes and lines on 32-byte boundaries. */
function aligned(rgb: Float32Array, width: number, height: number): boolean {
  return rgb.byteOffset % 32 === 0 && (width * height * 4) % 32 === 0 && (width * 4) % 32 === 0;
}

/**
 * Wraps planar RGB floats as a G,B,R frame without copying when the layout allows (the frame keeps
 * the JS buffer alive until FFmpeg lets go of it); copies line by line otherwise.
 */
function rgbToFloatPlanes(rgb: Float32Array, width: number, height: number): AvFrame {
  const size = width * height;
  if (aligned(rgb, width, height)) {
    const plane = (c: number) => Buffer.from(rgb.buffer, rgb.byteOffset + c * size * 4, size * 4);
    return beamcoder().frame({ width, height, format: FLOAT_RGB, linesize: [width * 4, width * 4, width * 4], data: [plane(1), plane(2), plane(0)] });
  }
  const frame = beamcoder().frame({ width, height, format: FLOAT_RGB }).alloc();
  const order = [2, 0, 1];
  order.forEach((plane, c) => {
    const buf = frame.data[plane]!;
    const stride = frame.linesize[plane]! / 4;
    const dst = new Float32Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 4));
    const src = rgb.subarray(c * size, (c + 1) * size);
    if (stride === width) dst.set(src);
    else for (let y = 0; y < height; y++) dst.set(src.subarray(y * width, (y + 1) * width), y * stride);
  });
  return frame;
}

/** The filter that turns decoded pictures into RGB: accurate swscale, the stream's matrix and range. */
export function toRgbFilterSpec(input: PictureFormat, size?: { width: number; height: number }): string {
  const dims = size && (size.width !== input.width || size.height !== input.height) ? [`w=${size.width}`, `h=${size.height}`] : [];
  const opts = [...dims, SWS_FLAGS, ...scaleColorOptions('in', input.pixelFormat, input.color)];
  // FFmpeg 5.1's swscale turns gray into green when writing planar float RGB (it reads absent
  // chroma as 0, not as neutral); widening to 4:4:4 first gives neutral chroma, losslessly.
  const widen = formatTraits(input.pixelFormat).family === 'gray' ? 'format=yuv444p16le,' : '';
  return `${widen}scale=${opts.join(':')}`;
}

/** Decoded pictures in any format → planar float RGB 0..1, by swscale, honouring matrix and range. */
export class ToFloatRgb {
  private constructor(private readonly filterer: Beamcoder.Filterer) {}

  /** `size`: scale to this picture size too (a live stream whose resolution changed mid-run). */
  static async create(input: PictureFormat, size?: { width: number; height: number }): Promise<ToFloatRgb> {
    return new ToFloatRgb(await makeFilterer(input, FLOAT_RGB, toRgbFilterSpec(input, size)));
  }

  async convert(frame: AvFrame): Promise<Float32Array> {
    return floatPlanesToRgb(await runFilter(this.filterer, frame));
  }
}

/** Planar float RGB 0..1 → the encoder's pixel format, by swscale, with the output's matrix and range. */
export class FromFloatRgb {
  private constructor(
    private readonly filterer: Beamcoder.Filterer,
    private readonly target: PictureFormat,
  ) {}

  static async create(target: PictureFormat): Promise<FromFloatRgb> {
    const opts = [SWS_FLAGS, ...scaleColorOptions('out', target.pixelFormat, target.color)];
    const input: PictureFormat = { ...target, pixelFormat: FLOAT_RGB };
    return new FromFloatRgb(await makeFilterer(input, target.pixelFormat, `scale=${opts.join(':')}`), target);
  }

  async convert(rgb: Float32Array, pts: number, duration: number): Promise<AvFrame> {
    const planes = rgbToFloatPlanes(rgb, this.target.width, this.target.height);
    planes.pts = pts;
    planes.pkt_duration = duration;
    const out = await runFilter(this.filterer, planes);
    out.pts = pts;
    out.pkt_duration = duration;
    out.color_range = this.target.color.range;
    out.colorspace = this.target.color.matrix;
    out.color_primaries = this.target.color.primaries;
    out.color_trc = this.target.color.transfer;
    out.sample_aspect_ratio = [this.target.sampleAspect.num, this.target.sampleAspect.den];
    return out;
  }
}

import type { Beamcoder } from './beamcoder.js';
import { beamcoder } from './beamcoder.js';
import type { ColorInfo, NativePicture } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { levelTable, quantiseLevels } from '../core/levels.js';
import { scaleColorOptions } from './color.js';
import { formatTraits } from './pixel-formats.js';

/** Accurate swscale paths: the fast yuv→rgb path is off by 2.5 levels on average (platform notes). */
const SWS_FLAGS = 'flags=bicubic+accurate_rnd+full_chroma_int+full_chroma_inp+bitexact';

export interface PictureFormat {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: string;
  readonly color: ColorInfo;
  readonly timeBase: Rational;
  readonly sampleAspect: Rational;
}

type AvFrame = Beamcoder.Frame;

/** A decoded beamcoder frame as the opaque picture frames carry between stages. */
export function nativePicture(frame: AvFrame): NativePicture {
  return { handle: frame };
}

/** A black-ish picture of `info`'s size and format (contents unset): for warm-up runs. */
export function blankNativePicture(info: { width: number; height: number; pixelFormat: string }): NativePicture {
  return nativePicture(beamcoder().frame({ width: info.width, height: info.height, format: info.pixelFormat }).alloc());
}

/**
 * An 8-bit picture of `info`'s size and format whose every plane holds a pattern that changes with
 * `seed` (memory probes: a model must see changing pictures, as it would in a run).
 */
export function patternNativePicture(info: { width: number; height: number; pixelFormat: string }, seed: number): NativePicture {
  const frame = beamcoder().frame({ width: info.width, height: info.height, format: info.pixelFormat }).alloc();
  for (const plane of frame.data) {
    if (!plane) continue;
    for (let i = 0; i < plane.length; i++) plane[i] = 16 + ((i * 7919 + seed * 104729) % 220);
  }
  return nativePicture(frame);
}

/** The beamcoder frame behind a native picture (only src/av looks inside). */
export function avFrameOf(picture: NativePicture): AvFrame {
  return picture.handle as AvFrame;
}

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

/**
 * The integer planar RGB format float pictures go through: 8-bit levels for sources and outputs of
 * up to 8 bits, 10/12/16-bit above, so k maps to exactly k/(2^n−1) on both sides.
 */
function integerRgb(depth: number): { format: string; depth: number } {
  if (depth <= 8) return { format: 'gbrp', depth: 8 };
  if (depth <= 10) return { format: 'gbrp10le', depth: 10 };
  if (depth <= 12) return { format: 'gbrp12le', depth: 12 };
  return { format: 'gbrp16le', depth: 16 };
}

/** gbrp planes are stored G, B, R; frames hold R, G, B. */
const GBR_PLANE_OF_RGB = [2, 0, 1] as const;

/** The filter that turns decoded pictures into RGB: accurate swscale, the stream's matrix and range. */
export function toRgbFilterSpec(input: PictureFormat): string {
  return `scale=${[SWS_FLAGS, ...scaleColorOptions('in', input.pixelFormat, input.color)].join(':')}`;
}

/**
 * Decoded pictures in any format → planar float RGB, by swscale into integer planar RGB of the
 * source's depth (accurate rounding, the stream's matrix and range), then level k → k/(2^n−1)
 * exactly. swscale's own float output (gbrpf32le) maps 8-bit k to about k/256, hence the detour.
 */
export class ToFloatRgb {
  private constructor(
    private readonly filterer: Beamcoder.Filterer,
    private readonly depth: number,
  ) {}

  static async create(input: PictureFormat): Promise<ToFloatRgb> {
    const rgb = integerRgb(formatTraits(input.pixelFormat).depth);
    return new ToFloatRgb(await makeFilterer(input, rgb.format, toRgbFilterSpec(input)), rgb.depth);
  }

  async convert(frame: AvFrame): Promise<Float32Array> {
    return planesToFloat(await runFilter(this.filterer, frame), this.depth);
  }
}

/** Integer G,B,R planes (with line padding) → one planar R,G,B Float32Array of exact levels. */
export function planesToFloat(frame: AvFrame, depth: number): Float32Array {
  const { width, height } = frame;
  const size = width * height;
  const table = levelTable(depth);
  const rgb = new Float32Array(3 * size);
  const bytes = depth > 8 ? 2 : 1;
  GBR_PLANE_OF_RGB.forEach((plane, c) => {
    const buf = frame.data[plane]!;
    const stride = frame.linesize[plane]! / bytes;
    const src = bytes === 1 ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint16Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 2));
    let o = c * size;
    for (let y = 0; y < height; y++) {
      const row = y * stride;
      for (let x = 0; x < width; x++) rgb[o++] = table[src[row + x]!]!;
    }
  });
  return rgb;
}

/**
 * Planar float RGB → the encoder's pixel format: round(clamp(x)·(2^n−1)) into integer planar RGB
 * of the target's depth (NaN throws), then swscale with the output's matrix and range.
 */
export class FromFloatRgb {
  private constructor(
    private readonly filterer: Beamcoder.Filterer | null,
    private readonly target: PictureFormat,
    private readonly rgb: { format: string; depth: number },
  ) {}

  static async create(target: PictureFormat): Promise<FromFloatRgb> {
    const rgb = integerRgb(formatTraits(target.pixelFormat).depth);
    if (target.pixelFormat === rgb.format) return new FromFloatRgb(null, target, rgb);
    const opts = [SWS_FLAGS, ...scaleColorOptions('out', target.pixelFormat, target.color)];
    const input: PictureFormat = { ...target, pixelFormat: rgb.format };
    return new FromFloatRgb(await makeFilterer(input, target.pixelFormat, `scale=${opts.join(':')}`), target, rgb);
  }

  /**
   * `levels8`: the 8-bit levels of `rgb` where the model computed them (used as they are for 8-bit
   * targets). Throws NotANumberError (core/levels) when a value is NaN.
   */
  async convert(rgb: Float32Array, pts: number, duration: number, levels8?: Uint8Array): Promise<AvFrame> {
    const { width, height } = this.target;
    const planes = levels8 && this.rgb.depth === 8 ? levelsToPlanes(levels8, width, height) : floatToPlanes(rgb, width, height, this.rgb.format, this.rgb.depth);
    planes.pts = pts;
    planes.pkt_duration = duration;
    const out = this.filterer ? await runFilter(this.filterer, planes) : planes;
    return tagFrame(out, this.target, pts, duration);
  }
}

/** 8-bit R,G,B planes → a new gbrp frame. */
function levelsToPlanes(levels: Uint8Array, width: number, height: number): AvFrame {
  const size = width * height;
  const frame = beamcoder().frame({ width, height, format: 'gbrp' }).alloc();
  GBR_PLANE_OF_RGB.forEach((plane, c) => {
    const buf = frame.data[plane]!;
    const stride = frame.linesize[plane]!;
    const src = levels.subarray(c * size, (c + 1) * size);
    if (stride === width) buf.set(src);
    else for (let y = 0; y < height; y++) buf.set(src.subarray(y * width, (y + 1) * width), y * stride);
  });
  return frame;
}

/** Float R,G,B planes → a new integer G,B,R frame of `depth` bits. */
function floatToPlanes(rgb: Float32Array, width: number, height: number, format: string, depth: number): AvFrame {
  const size = width * height;
  const frame = beamcoder().frame({ width, height, format }).alloc();
  const bytes = depth > 8 ? 2 : 1;
  const row = bytes === 1 ? new Uint8Array(width) : new Uint16Array(width);
  GBR_PLANE_OF_RGB.forEach((plane, c) => {
    const buf = frame.data[plane]!;
    const stride = frame.linesize[plane]! / bytes;
    const dst = bytes === 1 ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint16Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 2));
    if (stride === width) {
      quantiseLevels(rgb, depth, dst.subarray(0, size), c * size, size);
    } else {
      for (let y = 0; y < height; y++) {
        quantiseLevels(rgb, depth, row, c * size + y * width, width);
        dst.set(row, y * stride);
      }
    }
  });
  return frame;
}

/** Sets the output's timestamps and colour tags on a frame about to be encoded. */
export function tagFrame(frame: AvFrame, target: PictureFormat, pts: number, duration: number): AvFrame {
  frame.pts = pts;
  frame.pkt_duration = duration;
  frame.color_range = target.color.range;
  frame.colorspace = target.color.matrix;
  frame.color_primaries = target.color.primaries;
  frame.color_trc = target.color.transfer;
  frame.sample_aspect_ratio = [target.sampleAspect.num, target.sampleAspect.den];
  // a decoder's picture type would force keyframes in libx264 (ffmpeg clears it before encoding too)
  frame.pict_type = null;
  return frame;
}

/**
 * Native pictures → native pictures of another format, size or colour description, by swscale in
 * its accurate mode: the one conversion between a native model's output (or the source) and the
 * encoder. `same` tells when nothing needs converting at all.
 */
export class NativeConverter {
  private constructor(private readonly filterer: Beamcoder.Filterer | null) {}

  static needed(from: PictureFormat, to: PictureFormat): boolean {
    return from.pixelFormat !== to.pixelFormat || from.width !== to.width || from.height !== to.height || (formatTraits(from.pixelFormat).family !== 'rgb' && (from.color.matrix !== to.color.matrix || from.color.range !== to.color.range) && known(from.color) && known(to.color));
  }

  static async create(from: PictureFormat, to: PictureFormat): Promise<NativeConverter> {
    if (!NativeConverter.needed(from, to)) return new NativeConverter(null);
    const dims = from.width !== to.width || from.height !== to.height ? [`w=${to.width}`, `h=${to.height}`] : [];
    const opts = [...dims, SWS_FLAGS, ...scaleColorOptions('in', from.pixelFormat, from.color), ...scaleColorOptions('out', to.pixelFormat, to.color)];
    return new NativeConverter(await makeFilterer(from, to.pixelFormat, `scale=${opts.join(':')}`));
  }

  async convert(frame: AvFrame): Promise<AvFrame> {
    return this.filterer ? runFilter(this.filterer, frame) : frame;
  }
}

/** A colour description swscale can act on (an unknown one is passed through as it is). */
function known(color: ColorInfo): boolean {
  return color.range !== 'unknown' || color.matrix !== 'unknown';
}

/**
 * swscale's scaler on native pictures, keeping the format (and so the matrix and range): the
 * `bicubic` model, exactly as ffmpeg's `scale=iw*s:ih*s:flags=bicubic`.
 */
export class NativeScaler {
  private constructor(private readonly filterer: Beamcoder.Filterer) {}

  static async create(input: PictureFormat, width: number, height: number, flags: string): Promise<NativeScaler> {
    return new NativeScaler(await makeFilterer(input, input.pixelFormat, `scale=w=${width}:h=${height}:flags=${flags}`));
  }

  async scale(frame: AvFrame): Promise<AvFrame> {
    return runFilter(this.filterer, frame);
  }
}

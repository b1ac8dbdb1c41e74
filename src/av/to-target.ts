import type { Beamcoder } from './beamcoder.js';
import type { Frame, VideoInfo } from '../core/frame.js';
import { FromFloatRgb, NativeConverter, avFrameOf, tagFrame } from './rgb-converter.js';

/**
 * Turns frames in either layout into encoder-ready pictures of one target format, size and colour
 * description, with the output's timestamps and tags: float RGB through exact quantisation and
 * swscale, native pictures through swscale only when they differ from the target. Converters are
 * made on first use and kept (one per source description).
 */
export class TargetConverter {
  private fromRgb?: FromFloatRgb;
  private fromNative?: { key: string; converter: NativeConverter };

  constructor(readonly target: VideoInfo) {}

  /** Throws NotANumberError (core/levels) when float pixels hold NaN. */
  async convert(frame: Frame): Promise<Beamcoder.Frame> {
    const target = this.target;
    if (frame.layout === 'rgb-float') {
      this.fromRgb ??= await FromFloatRgb.create(target);
      return this.fromRgb.convert(frame.rgb, frame.pts, frame.duration, frame.levels8);
    }
    const av = avFrameOf(frame.picture);
    if (!NativeConverter.needed(frame.info, target)) return tagFrame(av, target, frame.pts, frame.duration);
    const { width, height, pixelFormat, color } = frame.info;
    const key = `${width}x${height} ${pixelFormat} ${color.matrix}/${color.range}`;
    if (this.fromNative?.key !== key) this.fromNative = { key, converter: await NativeConverter.create(frame.info, target) };
    return tagFrame(await this.fromNative.converter.convert(av), target, frame.pts, frame.duration);
  }

  /** True when `frame` can be encoded as it is. */
  matches(frame: Frame): boolean {
    return frame.layout === 'native' && !NativeConverter.needed(frame.info, this.target);
  }
}

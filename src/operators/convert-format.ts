import { concatMap, type OperatorFunction } from 'rxjs';
import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { rgbPixels, withPixels } from '../core/frame.js';
import { InferenceError } from '../core/errors.js';
import { NotANumberError } from '../core/levels.js';
import type { RunStats } from '../core/stats.js';
import { NativeConverter, ToFloatRgb, avFrameOf, nativePicture } from '../av/rgb-converter.js';
import { TargetConverter } from '../av/to-target.js';

/**
 * The conversions negotiated before the first frame, each done once per frame: the source's native
 * pictures into the model's layout, and the model's output into the encoder's format (before a tee,
 * so several outputs share it). A stage whose layouts already agree gets no conversion at all.
 */

/**
 * Native pictures → the model's layout: float RGB, or for a native model the pictures it takes
 * (`modelInput`: a luma model's 8-bit limited-range YUV), nothing at all where the source's are those.
 */
export async function toModelLayout(layout: PixelLayout, input: VideoInfo, stats: RunStats, modelInput: VideoInfo = input): Promise<OperatorFunction<Frame, Frame>> {
  if (layout === 'native') {
    if (!NativeConverter.needed(input, modelInput)) return (frames) => frames;
    const toModel = await NativeConverter.create(input, modelInput);
    return concatMap(async (frame: Frame): Promise<Frame> => {
      if (frame.layout !== 'native') throw new Error(`frame ${frame.index} is ${frame.layout}, the model takes native pictures: the formats were not negotiated`);
      const picture = await stats.time('convert', () => toModel.convert(avFrameOf(frame.picture)));
      stats.count('conversionsIn');
      return withPixels(frame, modelInput, { layout: 'native', picture: nativePicture(picture) });
    });
  }
  const toRgb = await ToFloatRgb.create(input);
  return concatMap(async (frame: Frame): Promise<Frame> => {
    if (frame.layout === 'rgb-float') return frame;
    const rgb = await stats.time('convert', () => toRgb.convert(avFrameOf(frame.picture)));
    stats.count('conversionsIn');
    return withPixels(frame, frame.info, rgbPixels(rgb));
  });
}

/**
 * The negotiated chain as the start line shows it: `yuv420p → float RGB → model → float RGB →
 * yuv420p` for a float model, `yuv420p → model → yuv420p` for one that works on native pictures.
 */
export function describeChain(sourceLayout: PixelLayout, input: VideoInfo, layout: PixelLayout, output: VideoInfo, target: VideoInfo | null, modelInput: VideoInfo = input): string {
  const FLOAT = 'float RGB';
  const chain = [sourceLayout === 'native' ? input.pixelFormat : FLOAT];
  if (layout === 'rgb-float' && sourceLayout === 'native') chain.push(FLOAT);
  if (layout === 'native' && NativeConverter.needed(input, modelInput)) chain.push(describeNative(modelInput));
  chain.push('model', layout === 'native' ? output.pixelFormat : FLOAT);
  if (target && (layout === 'rgb-float' || NativeConverter.needed(output, target))) chain.push(target.pixelFormat);
  return chain.join(' → ');
}

/** A native format as the start line names it: with its range where a conversion set it (`yuv420p tv`). */
function describeNative(info: VideoInfo): string {
  return info.color.range === 'tv' || info.color.range === 'pc' ? `${info.pixelFormat} ${info.color.range}` : info.pixelFormat;
}

/**
 * The model's output → native pictures in `target`, the encoder's format and colour. NaN in a float
 * output is an error naming the model and the frame.
 */
export function toOutputFormat(target: VideoInfo, modelId: string, stats: RunStats): OperatorFunction<Frame, Frame> {
  const toEncoder = new TargetConverter(target);
  return concatMap(async (frame: Frame): Promise<Frame> => {
    if (toEncoder.matches(frame)) return frame;
    let converted;
    try {
      converted = await stats.time('convert-out', () => toEncoder.convert(frame));
      stats.count('conversionsOut');
    } catch (err) {
      if (err instanceof NotANumberError) throw new InferenceError(`model ${modelId} gave NaN in frame ${frame.index} (${err.message})`);
      throw err;
    }
    const info = target.width === frame.info.width && target.height === frame.info.height ? target : { ...frame.info, pixelFormat: target.pixelFormat, color: target.color };
    return withPixels(frame, info, { layout: 'native', picture: nativePicture(converted) });
  });
}

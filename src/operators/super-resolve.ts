import { concatMap, defer, finalize, type OperatorFunction } from 'rxjs';
import type { Frame, VideoInfo } from '../core/frame.js';
import { scaledInfo, withPixels } from '../core/frame.js';
import { inStage } from '../core/errors.js';
import type { RunStats } from '../core/stats.js';
import type { SrModel } from '../inference/sr-model.js';

/**
 * Upscales each frame with a one-frame history window: the model sees the current frame and the
 * previous input and output frames (none on the first frame, after a discontinuity, or after a size
 * change). Output frames copy pts, duration and index from their input; only pixels and geometry
 * change. At most one previous input and one previous output are held, so memory stays constant.
 */
export function superResolve(model: SrModel, output: VideoInfo, stats?: RunStats): OperatorFunction<Frame, Frame> {
  return (frames) =>
    defer(() => {
      let previousInput: Frame | null = null;
      let previousOutput: Frame | null = null;
      return frames.pipe(
        concatMap(async (current) => {
          const broken = current.discontinuity || (previousInput && (previousInput.info.width !== current.info.width || previousInput.info.height !== current.info.height));
          if (broken) previousInput = previousOutput = null;
          const window = { current, previousInput, previousOutput };
          let rgb: Float32Array;
          try {
            rgb = stats ? await stats.time('infer', () => model.upscale(window)) : await model.upscale(window);
          } catch (err) {
            throw inStage('model', err);
          }
          const sameSize = current.info.width * model.scale === output.width && current.info.height * model.scale === output.height;
          const info = sameSize ? output : scaledInfo(current.info, model.scale);
          const result = withPixels(current, info, rgb);
          previousInput = current;
          previousOutput = model.usesHistory ? result : null;
          return result;
        }),
        finalize(() => {
          previousInput = previousOutput = null;
        }),
      );
    });
}

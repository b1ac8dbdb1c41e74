import { concatMap, defer, type OperatorFunction } from 'rxjs';
import type { Frame, VideoInfo } from '../core/frame.js';
import { scaledInfo, withPixels } from '../core/frame.js';
import { inStage } from '../core/errors.js';
import type { RunStats } from '../core/stats.js';
import type { ModelState, SrModel } from '../inference/sr-model.js';

/**
 * Upscales each frame with a one-frame history window. The model's state (what it keeps of the
 * previous frame) lives here and nowhere else: the model returns it with each output and gets it
 * back with the next frame; on the first frame, after a discontinuity, or after a size change it
 * gets none. Output frames copy pts, duration and index from their input; only pixels and geometry
 * change. One state is held at a time, so memory stays constant. Each frame upscaled is counted
 * in `stats`: `modelFrames`, or `fallbackFrames` for those the fallback policy's faster model took.
 */
export function superResolve(model: SrModel, output: VideoInfo, stats?: RunStats): OperatorFunction<Frame, Frame> {
  return (frames) =>
    defer(() => {
      let state: ModelState | undefined;
      let previous: VideoInfo | undefined;
      return frames.pipe(
        concatMap(async (current) => {
          const broken = current.discontinuity || (previous && (previous.width !== current.info.width || previous.height !== current.info.height));
          if (broken) state = undefined;
          let step;
          try {
            step = stats ? await stats.time('infer', () => model.upscale(current, state)) : await model.upscale(current, state);
          } catch (err) {
            state = undefined;
            throw inStage('model', err);
          }
          stats?.count(step.byFallback ? 'fallbackFrames' : 'modelFrames');
          state = model.usesHistory ? step.state : undefined;
          previous = current.info;
          const sameSize = current.info.width * model.scale === output.width && current.info.height * model.scale === output.height;
          const info = sameSize ? output : scaledInfo(current.info, model.scale);
          return withPixels(current, info, step.pixels);
        }),
      );
    });
}

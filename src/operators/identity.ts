import { concatMap, EMPTY, of, type OperatorFunction, takeWhile, timer, map, throwError } from 'rxjs';
import type { Frame } from '../core/frame.js';
import { PipelineError } from '../core/errors.js';

export interface IdentityOptions {
  /** Hold each frame this long (a slow stage). */
  readonly delayMs?: number;
  /** Fail with a PipelineError after passing this many frames. */
  readonly errorAfter?: number;
  /** End the stream after passing this many frames. */
  readonly eosAfter?: number;
  /** Drop every Nth frame (1-based), reporting each to onDrop. */
  readonly dropEvery?: number;
  readonly onDrop?: (frame: Frame) => void;
  readonly name?: string;
}

/**
 * Passes frames through unchanged, optionally slowly, lossily or failing: GStreamer's identity
 * element, for testing back-pressure, error propagation and partial outputs.
 */
export function identity(opts: IdentityOptions = {}): OperatorFunction<Frame, Frame> {
  const name = opts.name ?? 'identity';
  let seen = 0;
  let passed = 0;
  return (frames) =>
    frames.pipe(
      takeWhile(() => opts.eosAfter === undefined || passed < opts.eosAfter),
      concatMap((frame) => {
        seen++;
        if (opts.errorAfter !== undefined && passed >= opts.errorAfter) {
          return throwError(() => new PipelineError(name, `${name}: injected failure at frame ${frame.index}`));
        }
        if (opts.dropEvery && seen % opts.dropEvery === 0) {
          opts.onDrop?.(frame);
          return EMPTY;
        }
        passed++;
        return opts.delayMs ? timer(opts.delayMs).pipe(map(() => frame)) : of(frame);
      }),
    );
}

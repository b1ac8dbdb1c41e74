import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { Frame } from '../core/frame.js';

export interface TimestampIssue {
  readonly index: number;
  readonly pts: number;
  readonly problem: 'non-monotonic' | 'gap' | 'overlap';
}

/**
 * Reports frames whose pts does not increase, or that leave a gap or an overlap after the previous
 * frame's pts + duration (GStreamer identity's check-imperfect-timestamp). Frames pass unchanged.
 */
export function checkTimestamps(report: (issue: TimestampIssue) => void): MonoTypeOperatorFunction<Frame> {
  let last: Frame | undefined;
  return tap((frame) => {
    if (last) {
      if (frame.pts <= last.pts) report({ index: frame.index, pts: frame.pts, problem: 'non-monotonic' });
      else if (last.duration > 0 && frame.pts !== last.pts + last.duration) {
        report({ index: frame.index, pts: frame.pts, problem: frame.pts > last.pts + last.duration ? 'gap' : 'overlap' });
      }
    }
    last = frame;
  });
}

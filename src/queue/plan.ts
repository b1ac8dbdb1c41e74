import type { Rational } from '../core/rational.js';
import type { FrameRange } from '../sources/av-source.js';
import type { VideoScan } from '../av/scan.js';

/** One chunk of a file: the frames it writes, and the frames it decodes and runs first. */
export interface ChunkPlan {
  readonly index: number;
  /** Frames from `range.from` on go through the model; frames from `writeFrom` on are written. */
  readonly range: FrameRange;
  readonly writeFrom: number;
  /** Frames written (writeFrom up to range.until). */
  readonly frames: number;
  readonly warmupFrames: number;
}

/**
 * Cuts a file at keyframes into chunks of at least `chunkSeconds` (the last may be shorter; a
 * file with keyframes farther apart gets longer chunks). Every chunk but the first starts with
 * `warmup` frames from before its start, decoded from the keyframe before them, so the model's
 * history is there on its first written frame.
 */
export function planChunks(scan: VideoScan, chunkSeconds: number, warmup: number): ChunkPlan[] {
  const { pts, keyframes, timeBase } = scan;
  if (!pts.length) return [];
  const secs = (t: number): number => (t * timeBase.num) / timeBase.den;
  const starts: number[] = [pts[0]!];
  for (const k of keyframes) {
    if (k > starts[starts.length - 1]! && secs(k) - secs(starts[starts.length - 1]!) >= chunkSeconds - 1e-9) starts.push(k);
  }
  const indexOf = new Map(pts.map((t, i) => [t, i] as const));
  return starts.map((start, index) => {
    const until = starts[index + 1];
    const startIdx = indexOf.get(start) ?? pts.findIndex((t) => t >= start);
    const endIdx = until === undefined ? pts.length : indexOf.get(until) ?? pts.findIndex((t) => t >= until);
    const fromIdx = Math.max(0, startIdx - warmup);
    const from = pts[fromIdx]!;
    const seekTo = keyframes.filter((k) => k <= from).pop() ?? pts[0]!;
    return {
      index,
      range: { seekTo, from, ...(until !== undefined ? { until } : {}) },
      writeFrom: start,
      frames: endIdx - startIdx,
      warmupFrames: startIdx - fromIdx,
    };
  });
}

export function describeSpan(plan: ChunkPlan, tb: Rational): string {
  const s = (t: number): string => ((t * tb.num) / tb.den).toFixed(2);
  return `${s(plan.writeFrom)} s, ${plan.frames} frames${plan.warmupFrames ? ` after ${plan.warmupFrames} warm-up` : ''}`;
}

import { openPictures, type PictureReader } from './picture-reader.js';
import { UsageError } from '../core/errors.js';
import { scoreFrame, planesOf, temporalChange, type FrameScores, type Planes } from './frame-scores.js';
import type { Crop } from './planes.js';
import { psnrFromMse } from './psnr.js';

export interface EvaluateOptions {
  /** Ground truth: a video, an image, or a folder of PNG frames (name order). */
  readonly ref: string;
  /** The output to score, the same size and frame count, in any of those forms. */
  readonly test: string;
  /** Pixels left out at each edge (VSR papers often crop the scale factor). */
  readonly crop?: number;
  readonly onFrame?: (scores: FrameScores) => void;
}

export interface Means {
  /** Means of the per-frame figures, as VSR papers report them. */
  readonly psnrY: number;
  readonly ssimY: number;
  readonly psnrRgb: number;
  readonly ssimRgb: number;
  /** PSNR of the mean MSE over all frames: the 'average' FFmpeg's psnr filter prints at the end. */
  readonly pooledPsnrY: number;
  readonly pooledPsnrRgb: number;
}

export interface Flicker {
  /** Mean absolute change between consecutive frames, 0..255. */
  readonly test: number;
  readonly ref: number;
  /** test - ref: above 0, the output changes more from frame to frame than the ground truth. */
  readonly difference: number;
}

export interface EvalReport {
  readonly ref: string;
  readonly test: string;
  readonly width: number;
  readonly height: number;
  readonly crop: number;
  readonly frames: number;
  readonly perFrame: readonly FrameScores[];
  readonly mean: Means;
  /** Null for a single frame. */
  readonly flicker: Flicker | null;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function checkGeometry(test: PictureReader, ref: PictureReader, crop: number): Crop {
  const [t, r] = [test, ref];
  if (t.width !== r.width || t.height !== r.height) {
    throw new UsageError(`sizes differ: --test ${test.label} is ${t.width}x${t.height}, --ref ${ref.label} is ${r.width}x${r.height}`);
  }
  if (!Number.isInteger(crop) || crop < 0) throw new UsageError(`--crop ${crop}: must be a whole number of pixels, 0 or more`);
  if (Math.min(r.width, r.height) - 2 * crop < 8) throw new UsageError(`--crop ${crop} leaves less than 8x8 of a ${r.width}x${r.height} picture`);
  return { width: r.width, height: r.height, border: crop };
}

/** Scores frame pairs as they come, keeping only numbers and the previous pair's planes. */
class Tally {
  readonly perFrame: FrameScores[] = [];
  private readonly changes = { test: [] as number[], ref: [] as number[] };
  private previous?: { test: Planes; ref: Planes };

  constructor(
    private readonly crop: Crop,
    private readonly onFrame?: (scores: FrameScores) => void,
  ) {}

  add(test: Uint8Array, ref: Uint8Array): void {
    const planes = { test: planesOf(test, this.crop), ref: planesOf(ref, this.crop) };
    const scores = scoreFrame(this.perFrame.length + 1, planes.test, planes.ref, this.crop);
    this.perFrame.push(scores);
    this.onFrame?.(scores);
    if (this.previous) {
      this.changes.test.push(temporalChange(planes.test, this.previous.test));
      this.changes.ref.push(temporalChange(planes.ref, this.previous.ref));
    }
    this.previous = planes;
  }

  means(): Means {
    const f = this.perFrame;
    return {
      psnrY: mean(f.map((x) => x.psnrY)),
      ssimY: mean(f.map((x) => x.ssimY)),
      psnrRgb: mean(f.map((x) => x.psnrRgb)),
      ssimRgb: mean(f.map((x) => x.ssimRgb)),
      pooledPsnrY: psnrFromMse(mean(f.map((x) => x.mseY))),
      pooledPsnrRgb: psnrFromMse(mean(f.map((x) => x.mseRgb))),
    };
  }

  flicker(): Flicker | null {
    if (this.changes.test.length === 0) return null;
    const [test, ref] = [mean(this.changes.test), mean(this.changes.ref)];
    return { test, ref, difference: test - ref };
  }
}

/**
 * PSNR and SSIM on BT.601 Y and on RGB, per frame and on average, and the temporal flicker of
 * `test` against `ref`. Both are decoded frame by frame, so memory stays constant whatever the
 * length; differing sizes or frame counts are errors, never a partial score.
 */
export async function evaluate(opts: EvaluateOptions): Promise<EvalReport> {
  const test = await openPictures(opts.test);
  let ref: PictureReader | undefined;
  try {
    ref = await openPictures(opts.ref);
    const crop = checkGeometry(test, ref, opts.crop ?? 0);
    const tally = new Tally(crop, opts.onFrame);
    for (;;) {
      const [a, b] = await Promise.all([test.next(), ref.next()]);
      if (a && b) tally.add(a, b);
      else if (a || b) throw await countMismatch(test, ref, tally.perFrame.length, Boolean(a));
      else break;
    }
    if (tally.perFrame.length === 0) throw new UsageError(`no frames to compare in --test ${test.label} and --ref ${ref.label}`);
    const { width, height, border } = crop;
    return { ref: opts.ref, test: opts.test, width, height, crop: border, frames: tally.perFrame.length, perFrame: tally.perFrame, mean: tally.means(), flicker: tally.flicker() };
  } finally {
    test.close();
    ref?.close();
  }
}

/** Reads the longer input to its end, so the message can give both counts. */
async function countMismatch(test: PictureReader, ref: PictureReader, paired: number, testIsLonger: boolean): Promise<UsageError> {
  const longer = testIsLonger ? test : ref;
  let n = paired + 1;
  while (await longer.next()) n++;
  const [nt, nr] = testIsLonger ? [n, paired] : [paired, n];
  return new UsageError(`frame counts differ: --test ${test.label} has ${nt} frames, --ref ${ref.label} has ${nr}`);
}

import { channelPlane, croppedSize, lumaPlane, type Crop } from './planes.js';
import { meanAbsoluteDifference, meanSquaredError, psnrFromMse } from './psnr.js';
import { ssimPlane } from './ssim.js';

/** The planes metrics look at: BT.601 Y and the three RGB channels, cropped. */
export interface Planes {
  readonly y: Uint8Array;
  readonly rgb: readonly [Uint8Array, Uint8Array, Uint8Array];
}

export function planesOf(rgb24: Uint8Array, crop: Crop): Planes {
  return { y: lumaPlane(rgb24, crop), rgb: [channelPlane(rgb24, 0, crop), channelPlane(rgb24, 1, crop), channelPlane(rgb24, 2, crop)] };
}

/** One frame's scores; `n` counts from 1 as FFmpeg's stats files do. */
export interface FrameScores {
  readonly n: number;
  readonly psnrY: number;
  readonly ssimY: number;
  readonly psnrRgb: number;
  readonly ssimRgb: number;
  readonly mseY: number;
  /** Mean over R, G and B of each channel's MSE (FFmpeg's mse_avg for gbrp). */
  readonly mseRgb: number;
}

export function scoreFrame(n: number, test: Planes, ref: Planes, crop: Crop): FrameScores {
  const { width, height } = croppedSize(crop);
  const mseY = meanSquaredError(test.y, ref.y);
  const mseRgb = test.rgb.reduce((sum, plane, c) => sum + meanSquaredError(plane, ref.rgb[c]!), 0) / 3;
  const ssimRgb = test.rgb.reduce((sum, plane, c) => sum + ssimPlane(plane, ref.rgb[c]!, width, height), 0) / 3;
  return {
    n,
    psnrY: psnrFromMse(mseY),
    ssimY: ssimPlane(test.y, ref.y, width, height),
    psnrRgb: psnrFromMse(mseRgb),
    ssimRgb,
    mseY,
    mseRgb,
  };
}

/** Mean absolute change from the previous frame over R, G and B, in levels (0..255). */
export function temporalChange(current: Planes, previous: Planes): number {
  return current.rgb.reduce((sum, plane, c) => sum + meanAbsoluteDifference(plane, previous.rgb[c]!), 0) / 3;
}

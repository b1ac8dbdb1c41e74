import { UsageError } from '../core/errors.js';

/**
 * FFmpeg's own limit on a picture (av_image_check_size2): (w + 128) * (h + 128) must stay under
 * INT_MAX / 8, so about 16384x16384 at most. Past it every filter and encoder refuses the frame;
 * x4 of an 8K input (30720x17280) is well over.
 */
export function pictureSizeProblem(width: number, height: number): string | undefined {
  if (!(width > 0 && height > 0)) return `${width}x${height} is not a picture size`;
  if ((width + 128) * (height + 128) >= Math.floor(2147483647 / 8)) return `${width}x${height} is beyond FFmpeg's picture size limit ((w+128)*(h+128) < 2^28, e.g. 16000x16000)`;
  return undefined;
}

/** Refuses an upscale whose output FFmpeg cannot hold, before any model or tiling work. */
export function checkOutputSize(input: { width: number; height: number }, scale: number, label: string): void {
  const problem = pictureSizeProblem(input.width * scale, input.height * scale);
  if (problem) throw new UsageError(`${label}: ${input.width}x${input.height} x${scale} gives ${problem}; use --scale 2 or a smaller input`);
}

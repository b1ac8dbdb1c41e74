/**
 * SSIM of two 8-bit planes exactly as FFmpeg's ssim filter (and x264) define it: statistics over
 * 8x8 windows stepped by 4 pixels (overlapping 4x4 block sums) instead of the 11x11 Gaussian of
 * the original paper, averaged over all windows. Pixels beyond the last multiple of 4 in each
 * direction are not looked at, as in FFmpeg.
 */

const C1 = Math.floor(0.01 * 0.01 * 255 * 255 * 64 + 0.5);
const C2 = Math.floor(0.03 * 0.03 * 255 * 255 * 64 * 63 + 0.5);

/** Sums s1, s2, ss (a²+b²), s12 of each 4x4 block of one block row, four numbers per block. */
function blockRowSums(a: Uint8Array, b: Uint8Array, width: number, blockRow: number, blocks: number, out: Float64Array): void {
  for (let bx = 0; bx < blocks; bx++) {
    let s1 = 0;
    let s2 = 0;
    let ss = 0;
    let s12 = 0;
    for (let y = 0; y < 4; y++) {
      let i = (blockRow * 4 + y) * width + bx * 4;
      for (let x = 0; x < 4; x++, i++) {
        const p = a[i]!;
        const q = b[i]!;
        s1 += p;
        s2 += q;
        ss += p * p + q * q;
        s12 += p * q;
      }
    }
    const k = bx * 4;
    out[k] = s1;
    out[k + 1] = s2;
    out[k + 2] = ss;
    out[k + 3] = s12;
  }
}

/** SSIM of one 8x8 window from its summed statistics (64 samples). */
function windowSsim(s1: number, s2: number, ss: number, s12: number): number {
  const vars = ss * 64 - s1 * s1 - s2 * s2;
  const covar = s12 * 64 - s1 * s2;
  return ((2 * s1 * s2 + C1) * (2 * covar + C2)) / ((s1 * s1 + s2 * s2 + C1) * (vars + C2));
}

export function ssimPlane(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const blocksX = width >> 2;
  const blocksY = height >> 2;
  if (blocksX < 2 || blocksY < 2) throw new RangeError(`SSIM needs at least 8x8 pixels, got ${width}x${height}`);
  let above = new Float64Array(blocksX * 4);
  let below = new Float64Array(blocksX * 4);
  blockRowSums(a, b, width, 0, blocksX, below);
  let total = 0;
  for (let by = 1; by < blocksY; by++) {
    [above, below] = [below, above];
    blockRowSums(a, b, width, by, blocksX, below);
    for (let bx = 0; bx < blocksX - 1; bx++) {
      const k = bx * 4;
      total += windowSsim(
        above[k]! + above[k + 4]! + below[k]! + below[k + 4]!,
        above[k + 1]! + above[k + 5]! + below[k + 1]! + below[k + 5]!,
        above[k + 2]! + above[k + 6]! + below[k + 2]! + below[k + 6]!,
        above[k + 3]! + above[k + 7]! + below[k + 3]! + below[k + 7]!,
      );
    }
  }
  return total / ((blocksY - 1) * (blocksX - 1));
}

/** 8-bit planes cut from packed RGB24 pictures, with an optional border crop. */

export interface Crop {
  readonly width: number;
  readonly height: number;
  /** Pixels left out at each edge. */
  readonly border: number;
}

export function croppedSize(crop: Crop): { width: number; height: number } {
  return { width: crop.width - 2 * crop.border, height: crop.height - 2 * crop.border };
}

/** One channel (0 R, 1 G, 2 B) of a packed RGB24 picture, cropped. */
export function channelPlane(rgb: Uint8Array, channel: 0 | 1 | 2, crop: Crop): Uint8Array {
  const { width, height } = croppedSize(crop);
  const out = new Uint8Array(width * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = ((y + crop.border) * crop.width + crop.border) * 3 + channel;
    for (let x = 0; x < width; x++, i += 3) out[o++] = rgb[i]!;
  }
  return out;
}

/**
 * BT.601 luma in limited range, as VSR papers report it (MATLAB's rgb2ycbcr on 8-bit input):
 * Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded to 8 bits. FFmpeg's
 * `scale=out_range=tv,format=gray` computes the same in fixed point (differing by one level on
 * about 0.25% of pixels); plain `format=gray` is full range and is a different measure.
 */
export function lumaPlane(rgb: Uint8Array, crop: Crop): Uint8Array {
  const { width, height } = croppedSize(crop);
  const out = new Uint8Array(width * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let i = ((y + crop.border) * crop.width + crop.border) * 3;
    for (let x = 0; x < width; x++, i += 3) {
      out[o++] = Math.round(16 + (65.481 * rgb[i]! + 128.553 * rgb[i + 1]! + 24.966 * rgb[i + 2]!) / 255);
    }
  }
  return out;
}

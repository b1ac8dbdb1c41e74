import { PngEncoder } from '../av/png-encoder.js';
import { rgbOf } from '../core/frame.js';
import { bicubicResize, type Still } from './picture.js';

export interface PreviewPngs {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly before: Buffer;
  readonly after: Buffer;
}

/**
 * Turns a before/after pair into two PNGs of the output's size: the source frame scaled up with
 * bicubic, and the model's output. One pair at a time; a pair offered while one is being encoded
 * is skipped (the next one comes a second later).
 */
export class PreviewEncoder {
  private png: PngEncoder | undefined;
  private busy = false;

  async encode(pair: { index: number; before: Still; after: Still }): Promise<PreviewPngs | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      const { width, height } = pair.after;
      if (this.png?.width !== width || this.png.height !== height) this.png = await PngEncoder.create(width, height);
      const b = pair.before.frame;
      // a decoded source picture is scaled up by swscale's bicubic on its way to rgb24 (ffmpeg's
      // scale=flags=bicubic); float RGB (test sources) by the same kernel in bicubicResize
      const beforeFrame = b.layout === 'native' ? b : { ...b, info: { ...b.info, width, height }, rgb: bicubicResize({ width: b.info.width, height: b.info.height, rgb: rgbOf(b) }, width, height).rgb };
      const before = await this.png.encode(beforeFrame);
      const after = await this.png.encode(pair.after.frame);
      return { index: pair.index, width, height, before, after };
    } finally {
      this.busy = false;
    }
  }
}

import { PngEncoder } from '../av/png-encoder.js';
import { bicubicResize, type Picture } from './picture.js';

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

  async encode(pair: { index: number; before: Picture; after: Picture }): Promise<PreviewPngs | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      const { width, height } = pair.after;
      if (this.png?.width !== width || this.png.height !== height) this.png = await PngEncoder.create(width, height);
      const before = await this.png.encode(bicubicResize(pair.before, width, height).rgb, pair.index);
      const after = await this.png.encode(pair.after.rgb, pair.index);
      return { index: pair.index, width, height, before, after };
    } finally {
      this.busy = false;
    }
  }
}

import type { Frame, PixelLayout, VideoInfo } from '../core/frame.js';
import { scaledInfo } from '../core/frame.js';
import { NativeScaler, avFrameOf, nativePicture } from '../av/rgb-converter.js';
import type { ModelStep, SrModel } from './sr-model.js';

/**
 * A model that is one of swscale's scalers (`bicubic`: exactly ffmpeg's `scale=iw*s:ih*s:flags=bicubic`),
 * run on the decoded pictures themselves: 8- or 10-bit, YUV or RGB, matrix and range untouched, no
 * float stage at all. Where the pipeline needs float RGB (a fallback beside a float model, tiling)
 * it runs the model's ONNX graph of the same filter instead, given as `floatModel`.
 */
export class SwscaleModel implements SrModel {
  readonly usesHistory = false;
  readonly layouts: readonly PixelLayout[] = ['native', 'rgb-float'];
  private scaler?: NativeScaler;
  private float?: SrModel;

  constructor(
    readonly id: string,
    readonly scale: number,
    /** swscale flags, e.g. 'bicubic'. */
    private readonly flags: string,
    private readonly floatModel: () => Promise<SrModel>,
    /** Called when the model is set up to run in swscale (the device options do not apply then). */
    private readonly onNative?: () => void,
  ) {}

  async configure(input: VideoInfo, layout: PixelLayout = 'native'): Promise<VideoInfo> {
    const out = scaledInfo(input, this.scale);
    if (layout === 'rgb-float') {
      this.float ??= await this.floatModel();
      return this.float.configure(input, layout);
    }
    this.scaler = await NativeScaler.create(input, out.width, out.height, this.flags);
    this.onNative?.();
    return out;
  }

  async upscale(frame: Frame): Promise<ModelStep> {
    if (frame.layout === 'rgb-float') {
      if (!this.float) throw new Error(`model ${this.id} was not configured for float RGB`);
      return this.float.upscale(frame, undefined);
    }
    if (!this.scaler) throw new Error(`model ${this.id} was not configured for native pictures`);
    const scaled = await this.scaler.scale(avFrameOf(frame.picture));
    return { pixels: { layout: 'native', picture: nativePicture(scaled) } };
  }

  async dispose(): Promise<void> {
    await this.float?.dispose();
  }
}

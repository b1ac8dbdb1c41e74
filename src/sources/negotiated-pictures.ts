import type { Beamcoder } from '../av/beamcoder.js';
import type { VideoInfo } from '../core/frame.js';
import { NativeConverter } from '../av/rgb-converter.js';

/**
 * Keeps decoded pictures in the size and format the pipeline was negotiated with: untouched while
 * the stream stays as it was opened; a stream whose resolution or pixel format changes mid-run
 * (joined clips, a camera that switched modes) is scaled back to the negotiated size and format, and
 * the change is said (the first few times) and reported, so the model's history restarts there.
 */
export class NegotiatedPictures {
  private converter: NativeConverter | undefined;
  private key: string;
  private changes = 0;

  constructor(
    private readonly info: VideoInfo,
    private readonly warn: (message: string) => void,
  ) {
    this.key = `${info.width}x${info.height} ${info.pixelFormat}`;
  }

  async convert(frame: Beamcoder.Frame, at: string): Promise<{ picture: Beamcoder.Frame; changed: boolean }> {
    const format = frame.format ?? this.info.pixelFormat;
    const key = `${frame.width}x${frame.height} ${format}`;
    const changed = key !== this.key;
    if (changed || !this.converter) {
      if (changed && this.changes++ < 3) this.warn(`${at}: the picture changes to ${key}; scaling to ${this.info.width}x${this.info.height} ${this.info.pixelFormat} to keep the output as negotiated`);
      this.converter = await NativeConverter.create({ ...this.info, width: frame.width, height: frame.height, pixelFormat: format }, this.info);
      this.key = key;
    }
    return { picture: await this.converter.convert(frame), changed };
  }
}

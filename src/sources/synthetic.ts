import type { Frame, VideoInfo } from '../core/frame.js';
import type { ReadOptions, Source, SourceInfo } from './source.js';
import { creditedFrames } from './credited-frames.js';

export interface SyntheticOptions {
  readonly width: number;
  readonly height: number;
  /** Frames to produce; Infinity for an endless stream. */
  readonly frames: number;
  readonly frameRate?: { num: number; den: number };
  /** Called each time a frame is produced, with the frames in flight at that moment (tests). */
  readonly onProduce?: (index: number, inFlight: number) => void;
}

/**
 * A moving test pattern with no decoder behind it (like FFmpeg's testsrc or GStreamer's
 * videotestsrc), for tests and benchmarks of everything after the source.
 */
export class SyntheticSource implements Source {
  readonly label = 'synthetic';
  private readonly info: VideoInfo;

  constructor(private readonly opts: SyntheticOptions) {
    const rate = opts.frameRate ?? { num: 25, den: 1 };
    this.info = {
      width: opts.width,
      height: opts.height,
      pixelFormat: 'yuv420p',
      timeBase: { num: rate.den, den: rate.num },
      frameRate: rate,
      sampleAspect: { num: 1, den: 1 },
      color: { matrix: 'bt709', range: 'tv', primaries: 'bt709', transfer: 'bt709' },
    };
  }

  async open(): Promise<SourceInfo> {
    return { video: this.info, copyStreams: [], ignored: [], layout: 'rgb-float' };
  }

  async *frames(read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const { width, height } = this.info;
    let index = 0;
    yield* creditedFrames(read, async () => {
      if (index >= this.opts.frames) return undefined;
      this.opts.onProduce?.(index, read.credit.inFlight);
      const rgb = new Float32Array(3 * width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const p = y * width + x;
          rgb[p] = ((x + index) % width) / width;
          rgb[p + width * height] = y / height;
          rgb[p + 2 * width * height] = (x + y + index) % 2;
        }
      }
      read.stats.count('framesIn');
      const frame: Frame = { info: this.info, pts: index, duration: 1, index, layout: 'rgb-float', rgb };
      index++;
      return frame;
    });
  }

  async close(): Promise<void> {}
}

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame, VideoInfo } from '../core/frame.js';
import type { Rational } from '../core/rational.js';
import { UsageError } from '../core/errors.js';
import { decodeImage } from '../av/image.js';
import { NativeConverter, nativePicture } from '../av/rgb-converter.js';
import type { ReadOptions, Source, SourceInfo } from './source.js';
import { creditedFrames } from './credited-frames.js';

export interface PngFolderOptions {
  readonly dir: string;
  /** Frame rate given to the pictures; they carry no timing of their own. */
  readonly frameRate?: Rational;
}

const RGB_COLOR = { matrix: 'gbr', range: 'pc', primaries: 'unknown', transfer: 'unknown' } as const;

/** Lists a folder's PNG files in name order (code-point order, as a plain `sort` does). */
export async function listPngs(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.png'));
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A folder of PNG frames, read in name order: frame i has pts i in the time base 1/fps. */
export class PngFolderSource implements Source {
  readonly label: string;
  private files: string[] = [];
  private info?: VideoInfo;

  constructor(private readonly opts: PngFolderOptions) {
    this.label = opts.dir;
  }

  async open(): Promise<SourceInfo> {
    this.files = await listPngs(this.opts.dir);
    const first = this.files[0];
    if (!first) throw new UsageError(`input '${this.label}': the folder holds no .png files`);
    const picture = await decodeImage(join(this.opts.dir, first));
    const rate = this.opts.frameRate ?? { num: 25, den: 1 };
    this.info = {
      width: picture.width,
      height: picture.height,
      pixelFormat: picture.format ?? 'rgb24',
      timeBase: { num: rate.den, den: rate.num },
      frameRate: rate,
      sampleAspect: { num: 1, den: 1 },
      color: RGB_COLOR,
      durationSeconds: (this.files.length * rate.den) / rate.num,
    };
    return { video: this.info, copyStreams: [], ignored: [] };
  }

  async *frames(read: ReadOptions): AsyncGenerator<Frame, void, void> {
    const info = this.info;
    if (!info) throw new Error('PngFolderSource.frames() before open()');
    // pictures of one folder may be coded differently (rgb24, rgba, gray, palette): each becomes the first one's format
    const converters = new Map<string, NativeConverter>();
    let index = 0;
    yield* creditedFrames(read, async () => {
      const name = this.files[index];
      if (name === undefined) return undefined;
      const picture = await read.stats.time('decode', () => decodeImage(join(this.opts.dir, name)));
      if (picture.width !== info.width || picture.height !== info.height) {
        throw new UsageError(`input '${join(this.opts.dir, name)}': ${picture.width}x${picture.height} differs from the first frame's ${info.width}x${info.height}`);
      }
      const format = picture.format ?? info.pixelFormat;
      let converter = converters.get(format);
      if (!converter) {
        converter = await NativeConverter.create({ ...info, pixelFormat: format }, info);
        converters.set(format, converter);
      }
      const toFirst = converter;
      const native = await read.stats.time('convert', () => toFirst.convert(picture));
      read.stats.count('framesIn');
      const frame: Frame = { info, pts: index, duration: 1, index, layout: 'native', picture: nativePicture(native) };
      index++;
      return frame;
    });
  }

  /** File names in reading order (the `frames` command writes its outputs under the same names). */
  get fileNames(): readonly string[] {
    return this.files;
  }

  async close(): Promise<void> {}
}

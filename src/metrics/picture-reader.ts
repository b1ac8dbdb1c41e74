import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Rgb24Reader } from '../av/rgb24-reader.js';
import { UsageError } from '../core/errors.js';
import { listPngs } from '../sources/png-folder.js';

/** Pictures one after another as packed RGB24, from a video or from a folder of PNG frames. */
export interface PictureReader {
  readonly label: string;
  readonly width: number;
  readonly height: number;
  next(): Promise<Buffer | null>;
  close(): void;
}

function fromVideo(reader: Rgb24Reader): PictureReader {
  return { label: reader.label, width: reader.video.width, height: reader.video.height, next: () => reader.next(), close: () => reader.close() };
}

/** A folder of PNG frames in name order (as `stream-sr frames` writes them); every frame the first one's size. */
async function fromFolder(dir: string): Promise<PictureReader> {
  const files = (await listPngs(dir)).map((name) => join(dir, name));
  if (files.length === 0) throw new UsageError(`'${dir}': the folder holds no .png files`);
  const first = await Rgb24Reader.open(files[0]!);
  const { width, height } = first.video;
  first.close();
  let index = 0;
  return {
    label: dir,
    width,
    height,
    async next() {
      const file = files[index++];
      if (!file) return null;
      const picture = await Rgb24Reader.open(file);
      try {
        if (picture.video.width !== width || picture.video.height !== height) {
          throw new UsageError(`'${file}' is ${picture.video.width}x${picture.video.height}, the folder's first frame ${width}x${height}`);
        }
        return await picture.next();
      } finally {
        picture.close();
      }
    },
    close() {},
  };
}

export async function openPictures(path: string): Promise<PictureReader> {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`'${path}': no such file or folder`);
  }
  return isDir ? fromFolder(path) : fromVideo(await Rgb24Reader.open(path));
}

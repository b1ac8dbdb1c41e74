import { basename, dirname, extname } from 'node:path';
import { SinkError, UsageError } from '../core/errors.js';

/** PNG outputs are written as picture files (FFmpeg's image2 muxer), not into a container. */
export function isPictureOutput(output: string, format: string | undefined): boolean {
  return output !== '-' && /\.png$/i.test(output) && (format === undefined || format === 'image2');
}

export interface PictureNames {
  readonly dir: string;
  /** The first picture's file name (what -y guards). */
  readonly first: string;
  /** The file name of the `written`th picture (0-based). */
  nameOf(written: number): string;
}

/**
 * Names as FFmpeg's image2 muxer gives them (av_get_frame_filename): `out-%04d.png` numbers the
 * pictures from 1, zero-padded to the width given (`%3d` too, `%d` none), `%%` is a percent sign; a
 * name without a number holds one picture, and a second frame is an error that says how to number them.
 */
export function pictureNames(output: string): PictureNames {
  const dir = dirname(output);
  const name = basename(output);
  const fields = [...name.matchAll(/%(%|\d*d)/g)].filter((m) => m[1] !== '%');
  if (fields.length > 1) throw new UsageError(`output '${output}': one frame number (%d) at most in a picture name`);
  const format = (n: number): string =>
    name.replace(/%(%|(\d*)d)/g, (_m, all: string, width: string) => (all === '%' ? '%' : String(n).padStart(Number(width || 0), '0')));
  if (fields.length === 1) return { dir, first: format(1), nameOf: (written) => format(written + 1) };
  const single = format(0);
  return {
    dir,
    first: single,
    nameOf: (written) => {
      if (written === 0) return single;
      const stem = basename(output, extname(output));
      throw new SinkError(`output '${output}' is one picture, and the input has more than one frame: number the pictures, e.g. ${stem}-%04d${extname(output)}`);
    },
  };
}

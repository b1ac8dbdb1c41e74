import type { ColorInfo } from '../core/frame.js';
import { formatTraits } from './pixel-formats.js';

/** AVColorSpace names → the names vf_scale's in/out_color_matrix options take. */
const SCALE_MATRIX: Record<string, string> = {
  bt709: 'bt709',
  smpte170m: 'smpte170m',
  bt470bg: 'bt470',
  fcc: 'fcc',
  smpte240m: 'smpte240m',
  bt2020nc: 'bt2020',
  bt2020c: 'bt2020',
};

/** vf_scale options for one side ('in' or 'out') of a conversion; unknown values are left to FFmpeg. */
export function scaleColorOptions(side: 'in' | 'out', pixelFormat: string, color: ColorInfo): string[] {
  const opts: string[] = [];
  if (formatTraits(pixelFormat).family === 'rgb') return opts;
  const matrix = SCALE_MATRIX[color.matrix];
  if (matrix) opts.push(`${side}_color_matrix=${matrix}`);
  if (color.range === 'tv' || color.range === 'pc') opts.push(`${side}_range=${color.range}`);
  return opts;
}

/** The primaries and transfer of the standard a matrix belongs to (ITU-R BT.709, BT.601 525 and 625 lines, BT.2020). */
const STANDARD_OF_MATRIX: Readonly<Record<string, { readonly primaries: string; readonly transfer: string }>> = {
  bt709: { primaries: 'bt709', transfer: 'bt709' },
  smpte170m: { primaries: 'smpte170m', transfer: 'smpte170m' },
  bt470bg: { primaries: 'bt470bg', transfer: 'smpte170m' },
  bt2020nc: { primaries: 'bt2020', transfer: 'bt2020-10' },
  bt2020c: { primaries: 'bt2020', transfer: 'bt2020-10' },
};

function known(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== 'unknown' && value !== 'unspecified' && value !== 'reserved';
}

/**
 * What an untagged YUV stream's pictures are taken to be, as players take them: BT.709 from 720
 * lines, BT.601 (smpte170m) below, for the matrix, the primaries and the transfer each that the
 * stream does not state, and limited range (full for yuvj*). One assumption for the whole chain:
 * the conversion to RGB reads the pictures with it, and outputs whose YUV is not converted
 * (swscale's bicubic, luma models) are tagged with it, not with what their own size would
 * suggest. RGB and tagged values are kept.
 */
export function withAssumedColor(pixelFormat: string, color: ColorInfo, height: number): ColorInfo {
  if (formatTraits(pixelFormat).family !== 'yuv') return color;
  const bySize = height >= 720 ? 'bt709' : 'smpte170m';
  // a stated matrix names its standard: the primaries and transfer it leaves out are that standard's
  const standard = (known(color.matrix) ? STANDARD_OF_MATRIX[color.matrix] : undefined) ?? STANDARD_OF_MATRIX[bySize]!;
  // yuvj* formats are full range by definition; other untagged YUV is limited, as decoders take it
  const range = color.range === 'tv' || color.range === 'pc' ? color.range : pixelFormat.startsWith('yuvj') ? 'pc' : 'tv';
  return {
    range,
    matrix: known(color.matrix) ? color.matrix : bySize,
    primaries: known(color.primaries) ? color.primaries : standard.primaries,
    transfer: known(color.transfer) ? color.transfer : standard.transfer,
  };
}

/**
 * The colour description of the output: the input's where it has one, else an explicit standard
 * one for the output size, so that players never have to guess. YUV read by av/input.ts arrives
 * with its colour already assumed (withAssumedColor); the output-size standard is for RGB and gray
 * input, whose YUV the conversion out makes.
 */
export function outputColor(inputFormat: string, input: ColorInfo, outputFormat: string, outputHeight: number): ColorInfo {
  const outFamily = formatTraits(outputFormat).family;
  const inFamily = formatTraits(inputFormat).family;
  const hd = outputHeight >= 720;
  const primaries = known(input.primaries) ? input.primaries : hd ? 'bt709' : 'smpte170m';
  const transfer = known(input.transfer) ? input.transfer : hd ? 'bt709' : 'smpte170m';
  if (outFamily === 'rgb') return { matrix: 'gbr', range: 'pc', primaries, transfer };
  const inputIsYuv = inFamily !== 'rgb';
  const matrix = inputIsYuv && known(input.matrix) && input.matrix !== 'gbr' ? input.matrix : hd ? 'bt709' : 'smpte170m';
  // swscale reads untagged gray as full range and yuvj* formats are full range by definition
  const fullByDefault = inputFormat.startsWith('yuvj') || inFamily === 'gray' ? 'pc' : undefined;
  const range = inputIsYuv && (input.range === 'tv' || input.range === 'pc') ? input.range : (fullByDefault ?? 'tv');
  return { matrix, range, primaries, transfer };
}

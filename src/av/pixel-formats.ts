import { beamcoder } from './beamcoder.js';
import { UsageError } from '../core/errors.js';

interface FormatTraits {
  readonly family: 'yuv' | 'rgb' | 'gray';
  readonly depth: number;
  readonly chromaW: number;
  readonly chromaH: number;
  readonly alpha: boolean;
  readonly float: boolean;
}

const traitsCache = new Map<string, FormatTraits>();

/** What a pixel format is (cached: beamcoder builds its whole table of formats on every pix_fmts() call). */
export function formatTraits(name: string): FormatTraits {
  let traits = traitsCache.get(name);
  if (!traits) {
    traits = readTraits(name);
    traitsCache.set(name, traits);
  }
  return traits;
}

function readTraits(name: string): FormatTraits {
  const desc = beamcoder().pix_fmts()[name] as
    | { nb_components: number; log2_chroma_w: number; log2_chroma_h: number; flags: { RGB: boolean; ALPHA: boolean; FLOAT: boolean; HWACCEL: boolean; PAL: boolean }; comp: Array<{ depth: number }> }
    | undefined;
  if (!desc) throw new UsageError(`unknown pixel format '${name}'`);
  const colourComponents = desc.nb_components - (desc.flags.ALPHA ? 1 : 0);
  return {
    family: desc.flags.RGB || desc.flags.PAL ? 'rgb' : colourComponents === 1 ? 'gray' : 'yuv',
    depth: desc.comp[0]?.depth ?? 8,
    chromaW: desc.log2_chroma_w,
    chromaH: desc.log2_chroma_h,
    alpha: desc.flags.ALPHA,
    float: desc.flags.FLOAT,
  };
}

/**
 * How far `candidate` is from `wanted`: a different family costs most, then losing bit depth,
 * then chroma subsampling, then gaining depth or alpha. Lower is nearer.
 */
function distance(wanted: FormatTraits, candidate: FormatTraits): number {
  let d = 0;
  if (candidate.family !== wanted.family) {
    // gray content fits yuv losslessly; rgb content is best kept without chroma subsampling
    d += wanted.family === 'gray' && candidate.family === 'yuv' ? 500 : 1000;
  }
  if (candidate.float !== wanted.float) d += 400;
  if (candidate.depth < wanted.depth) d += 300 + (wanted.depth - candidate.depth) * 10;
  else d += (candidate.depth - wanted.depth) * 2;
  const lostChroma = Math.max(0, candidate.chromaW - wanted.chromaW) + Math.max(0, candidate.chromaH - wanted.chromaH);
  const extraChroma = Math.max(0, wanted.chromaW - candidate.chromaW) + Math.max(0, wanted.chromaH - candidate.chromaH);
  d += lostChroma * 100 + extraChroma * 5;
  if (candidate.alpha !== wanted.alpha) d += 20;
  return d;
}

/**
 * The encoder format for an output: the one asked for (`--pix-fmt`), else the input's own format
 * when the encoder takes it, else the nearest one it takes. `accepted` null means any format.
 */
export function chooseOutputFormat(input: string, accepted: readonly string[] | null, requested?: string): string {
  if (requested) {
    try {
      formatTraits(requested);
    } catch (err) {
      throw new UsageError(`--pix-fmt ${requested}: not a pixel format FFmpeg knows (ffmpeg -pix_fmts lists them)`, { cause: err });
    }
    if (accepted && !accepted.includes(requested)) {
      throw new UsageError(`--pix-fmt ${requested}: the encoder takes only ${accepted.join(', ')}`);
    }
    return requested;
  }
  if (!accepted || accepted.includes(input)) return stripJpeg(input, accepted);
  const wanted = formatTraits(input);
  let best = accepted[0] ?? input;
  let bestDistance = Infinity;
  for (const name of accepted) {
    if (name.startsWith('yuvj')) continue; // deprecated full-range aliases; range is tagged instead
    const d = distance(wanted, formatTraits(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** yuvj* formats are deprecated aliases of yuv* with full range; we tag the range explicitly. */
function stripJpeg(name: string, accepted: readonly string[] | null): string {
  if (!name.startsWith('yuvj')) return name;
  const plain = 'yuv' + name.slice(4);
  return !accepted || accepted.includes(plain) ? plain : name;
}

export function hasAlpha(name: string): boolean {
  return formatTraits(name).alpha;
}

export function isRgbFamily(name: string): boolean {
  return formatTraits(name).family === 'rgb';
}

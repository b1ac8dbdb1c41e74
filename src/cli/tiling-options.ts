import type { Argv } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { checkTilingOptions, type TilingOptions } from '../inference/tiled-model.js';

/** --tile, --tile-overlap and --max-memory, for every command that runs a model. */
export function tilingOptions<T>(y: Argv<T>) {
  return y
    .option('tile', { type: 'number', describe: 'upscale in overlapping tiles of N x N input pixels (blended), for large frames or fixed-shape engines' })
    .option('tile-overlap', { type: 'number', default: DEFAULTS.tileOverlap, describe: 'overlap between tiles, in input pixels' })
    .option('max-memory', { type: 'string', describe: 'memory one model run may take beyond its weights (e.g. 512M, 2G); larger frames are tiled to fit' });
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

/** '512M', '1.5G', '2GiB', '1048576' → bytes (binary units, as ffmpeg and most tools read them). */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${option} ${text}: not a size (e.g. 512M, 2G, or a number of bytes)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes <= 0) throw new UsageError(`${option} ${text}: must be more than 0`);
  return bytes;
}

export function tilingFromArgs(args: { tile?: number | undefined; tileOverlap: number; maxMemory?: string | undefined }, log: Logger): TilingOptions {
  const opts: TilingOptions = {
    ...(args.tile !== undefined ? { tile: args.tile } : {}),
    overlap: args.tileOverlap,
    ...(args.maxMemory !== undefined ? { maxMemoryBytes: parseSize(args.maxMemory, '--max-memory') } : {}),
    log,
  };
  checkTilingOptions(opts);
  return opts;
}

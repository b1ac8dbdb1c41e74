import type { Argv, Options } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { DEVICES, type Device } from '../inference/providers.js';
import { checkTilingOptions } from '../inference/tiled-model.js';
import type { Schema } from './schema.js';
import type { ModelSpec } from './spec.js';
import type { Precision } from '../models/manifest.js';

/**
 * The one description of a model's options. The command line's flags (`--engine-cache`) and a
 * pipeline file's `model:` keys (`engineCache`) are both made from it, and both go through
 * `modelSpecFrom`, so a new option is added here and where it is used, and pipeline files can set
 * everything the command line can.
 */
interface ModelOption {
  /** The command-line flag; yargs also accepts its camelCase form, which is the pipeline key unless `key` says otherwise. */
  readonly flag: string;
  readonly alias?: readonly string[];
  readonly type: 'string' | 'number' | 'integer' | 'boolean' | 'strings';
  readonly describe: string;
  readonly default?: string | number | boolean;
  readonly choices?: readonly (string | number)[];
  readonly minimum?: number;
  readonly pattern?: string;
  readonly patternMessage?: string;
}

export const MODEL_OPTIONS = {
  id: { flag: 'model', alias: ['m'], type: 'string', default: DEFAULTS.model, describe: 'model id, or path to a model.json', pattern: '^[A-Za-z0-9._/-]+$', patternMessage: 'must be a model id or a path to a model.json' },
  modelDirs: { flag: 'model-dir', type: 'strings', describe: 'extra folder(s) to search for models (also STREAM_SR_MODEL_PATH)' },
  scale: { flag: 'scale', alias: ['s'], type: 'integer', default: DEFAULTS.scale, choices: [2, 4], describe: 'upscale factor' },
  device: { flag: 'device', alias: ['d'], type: 'string', default: DEFAULTS.device, choices: DEVICES, describe: 'execution device; falls back to CPU with a warning' },
  gpu: { flag: 'gpu', type: 'integer', minimum: 0, describe: 'GPU index for cuda/tensorrt' },
  threads: { flag: 'threads', type: 'integer', minimum: 1, describe: 'inference threads (default: one per core)' },
  engineCache: { flag: 'engine-cache', type: 'string', describe: 'TensorRT engine cache folder (default: $XDG_CACHE_HOME/stream-sr/trt)' },
  precision: {
    flag: 'precision',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'fp32', 'int8'],
    describe: "weights of models that ship several: int8 (quantized, faster on CPUs), fp32; auto: the model's default on the CPU, fp32 on GPUs",
  },
  fp16: { flag: 'fp16', type: 'boolean', default: false, describe: 'half precision on cuda/tensorrt (graph I/O stays float32; TensorRT builds fp16 engines)' },
  imageHeight: { flag: 'image-height', alias: ['image_height'], type: 'integer', minimum: 1, describe: 'TensorRT: output height the engine is built for' },
  imageWidth: { flag: 'image-width', alias: ['image_width'], type: 'integer', minimum: 1, describe: 'TensorRT: output width the engine is built for' },
  tile: { flag: 'tile', type: 'integer', minimum: 1, describe: 'upscale in overlapping tiles of N x N input pixels (blended), for large frames or fixed-shape engines' },
  // no default here: given without --tile or --max-memory it would do nothing, which modelSpecFrom refuses
  tileOverlap: { flag: 'tile-overlap', type: 'integer', minimum: 0, describe: `overlap between tiles, in input pixels (default ${DEFAULTS.tileOverlap}; with --tile or --max-memory)` },
  maxMemory: { flag: 'max-memory', type: 'string', describe: 'memory one model run may take beyond its weights (e.g. 512M, 2G); larger frames are tiled to fit' },
  steps: { flag: 'steps', type: 'integer', minimum: 1, describe: 'stream-diffvsr: denoising steps (default: the distilled 4; others warn)' },
  seed: { flag: 'seed', type: 'integer', default: DEFAULTS.seed, describe: 'stream-diffvsr: seed of the per-frame noise (same seed, same output)' },
  resetThreshold: {
    flag: 'reset-threshold',
    type: 'number',
    default: DEFAULTS.resetThreshold,
    describe: 'stream-diffvsr: scene cut when the mean absolute LR difference (0..1) exceeds this; history is dropped (0: always, 1: never)',
  },
  changeThreshold: {
    flag: 'change-threshold',
    type: 'string',
    default: DEFAULTS.changeThreshold,
    pattern: '^(off|[0-9]+(\\.[0-9]+)?)$',
    patternMessage: "must be 'off' or a number of 8-bit levels",
    describe: 'change-aware compute for fixed cameras (history models, e.g. causal-sr): the model runs only where the LR frame changed by more than N 8-bit levels per tile (0: any change); off: every frame whole',
  },
} as const satisfies Record<string, ModelOption>;

type Key = keyof typeof MODEL_OPTIONS;

/** A model's options by pipeline key, as a pipeline file or the parsed command line holds them. */
export interface ModelOptionValues {
  readonly id?: string;
  readonly modelDirs?: readonly string[];
  readonly scale?: number;
  readonly device?: string;
  readonly gpu?: number | string;
  readonly threads?: number | string;
  readonly engineCache?: string;
  readonly precision?: string;
  readonly fp16?: boolean;
  readonly imageHeight?: number | string;
  readonly imageWidth?: number | string;
  readonly tile?: number | string;
  readonly tileOverlap?: number | string;
  readonly maxMemory?: string | number;
  readonly steps?: number | string;
  readonly seed?: number | string;
  readonly resetThreshold?: number;
  readonly changeThreshold?: string | number;
}

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The model flags, for every command that runs a model. */
export function modelOptions<T>(y: Argv<T>) {
  let b = y as Argv;
  for (const o of Object.values(MODEL_OPTIONS) as ModelOption[]) {
    const opt: Options = {
      // whole-number options without choices are read as text and checked by modelSpecFrom, so a
      // refusal quotes what was typed (yargs turns `--tile abc` into NaN)
      type: o.type === 'strings' ? 'string' : o.type === 'integer' ? (o.choices ? 'number' : 'string') : o.type,
      describe: o.describe,
      ...(o.type === 'strings' ? { array: true } : {}),
      // `--precision` with nothing after it is a mistake, not the default (yargs' requiresArg does not mix with array)
      ...(o.type !== 'boolean' && o.type !== 'strings' ? { requiresArg: true } : {}),
      ...(o.alias ? { alias: [...o.alias] } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.choices ? { choices: [...o.choices] } : {}),
    };
    b = b.option(o.flag, opt);
  }
  // whole numbers come as typed (text) from the command line, as numbers from a pipeline file
  type Whole = number | string;
  return b as Argv<T & { model: string; modelDir?: string[]; scale: number; device: string; gpu?: Whole; threads?: Whole; engineCache?: string; precision: string; fp16: boolean; imageHeight?: Whole; imageWidth?: Whole; tile?: Whole; tileOverlap?: Whole; maxMemory?: string; steps?: Whole; seed: Whole; resetThreshold: number; changeThreshold: string }>;
}

/** The parsed command line's model flags, by pipeline key. */
export function modelValuesFromArgs(args: Record<string, unknown>): ModelOptionValues {
  const values: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(MODEL_OPTIONS) as Array<[Key, ModelOption]>) {
    const v = args[camel(o.flag)];
    if (v !== undefined) values[key] = v;
  }
  return values as ModelOptionValues;
}

/** The `model:` object of a pipeline file. */
export function modelSchema(): Schema {
  const properties: Record<string, Schema> = {};
  for (const [key, o] of Object.entries(MODEL_OPTIONS) as Array<[Key, ModelOption]>) {
    properties[key] = {
      type: o.type === 'strings' ? 'array' : o.type,
      description: `${o.describe} (--${o.flag})`,
      ...(o.type === 'strings' ? { items: { type: 'string' } } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.choices ? { enum: o.choices } : {}),
      ...(o.minimum !== undefined ? { minimum: o.minimum } : {}),
      ...(o.pattern ? { pattern: o.pattern, patternMessage: o.patternMessage } : {}),
    };
  }
  // memory budgets are written as sizes (512M) or plain byte counts
  properties.maxMemory = { description: properties.maxMemory!.description! };
  // a number of levels, or off
  const change = properties.changeThreshold!;
  properties.changeThreshold = { description: change.description!, default: change.default!, minimum: 0, pattern: change.pattern!, patternMessage: change.patternMessage! };
  return { type: 'object', additionalProperties: false, properties, description: 'the model and how it runs; every key is a command-line option' };
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

/**
 * --image-height/--image-width, like the reference tool's --image_height/--image_width, are the
 * output size TensorRT engines are built for; the engine's input is that divided by the scale.
 */
export function fixedInputShape(height: number | undefined, width: number | undefined, scale: number): { height: number; width: number } | undefined {
  if (height === undefined && width === undefined) return undefined;
  const ok = (v: number | undefined): v is number => v !== undefined && Number.isInteger(v) && v > 0 && v % scale === 0;
  if (!ok(height) || !ok(width)) {
    throw new UsageError(`--image-height and --image-width go together, as output sizes that are whole multiples of the scale ${scale} (got ${height ?? 'none'} x ${width ?? 'none'})`);
  }
  return { height: height / scale, width: width / scale };
}

/** --change-threshold: 'off' → undefined (every frame whole), else a number of 8-bit levels (0 or more). */
export function parseChangeThreshold(value: string | number): number | undefined {
  if (value === 'off') return undefined;
  const n = typeof value === 'number' ? value : new RegExp(MODEL_OPTIONS.changeThreshold.pattern).test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--change-threshold ${value}: must be 'off' or a number of 8-bit levels (0 or more)`);
  return n;
}

/**
 * The whole-number options (`type: 'integer'`, without choices) as numbers, each checked against
 * its minimum: a pipeline file gives numbers, the command line the text as typed, quoted when refused.
 */
function wholeNumbers(v: ModelOptionValues): Partial<Record<Key, number>> {
  const out: Partial<Record<Key, number>> = {};
  for (const [key, o] of Object.entries(MODEL_OPTIONS) as Array<[Key, ModelOption]>) {
    const value = (v as Record<string, unknown>)[key];
    if (o.type !== 'integer' || o.choices || value === undefined) continue;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || (o.minimum !== undefined && n < o.minimum)) {
      throw new UsageError(`--${o.flag} ${String(value)}: must be a whole number${o.minimum !== undefined ? ` of at least ${o.minimum}` : ''}`);
    }
    out[key] = n;
  }
  return out;
}

/** Option values (command line or pipeline file) → the model spec, defaults filled in, every value checked. */
export function modelSpecFrom(given: ModelOptionValues): ModelSpec {
  const v = { ...given, ...wholeNumbers(given) } as ModelOptionValues & Partial<Record<'gpu' | 'threads' | 'imageHeight' | 'imageWidth' | 'tile' | 'tileOverlap' | 'steps' | 'seed', number>>;
  const scale = v.scale ?? DEFAULTS.scale;
  const shape = fixedInputShape(v.imageHeight, v.imageWidth, scale);
  const maxMemoryBytes = v.maxMemory === undefined ? undefined : parseSize(String(v.maxMemory), '--max-memory');
  const tiling = { ...(v.tile !== undefined ? { tile: v.tile } : {}), overlap: v.tileOverlap ?? DEFAULTS.tileOverlap, ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}) };
  checkTilingOptions(tiling);
  if (v.tileOverlap !== undefined && tiling.tile === undefined && maxMemoryBytes === undefined) {
    throw new UsageError(`--tile-overlap ${v.tileOverlap}: has no effect without --tile or --max-memory`);
  }
  if (v.steps !== undefined && (!Number.isInteger(v.steps) || v.steps < 1)) throw new UsageError(`--steps ${v.steps}: must be a whole number of at least 1`);
  const changeThreshold = parseChangeThreshold(v.changeThreshold ?? DEFAULTS.changeThreshold);
  return {
    id: v.id ?? DEFAULTS.model,
    scale,
    device: (v.device ?? DEFAULTS.device) as Device,
    ...(v.gpu !== undefined ? { gpu: v.gpu } : {}),
    ...(v.threads ? { threads: v.threads } : {}),
    ...(v.modelDirs?.length ? { modelDirs: v.modelDirs } : {}),
    ...(v.engineCache ? { engineCacheDir: v.engineCache } : {}),
    ...(v.precision && v.precision !== 'auto' ? { precision: v.precision as Precision } : {}),
    ...(v.fp16 ? { fp16: true } : {}),
    ...(shape ? { fixedInputShape: shape } : {}),
    ...(tiling.tile !== undefined || tiling.maxMemoryBytes !== undefined ? { tiling } : {}),
    ...(changeThreshold !== undefined ? { changeThreshold } : {}),
    diffusion: { ...(v.steps !== undefined ? { steps: v.steps } : {}), seed: v.seed ?? DEFAULTS.seed, resetThreshold: v.resetThreshold ?? DEFAULTS.resetThreshold },
  };
}

import type { Argv } from 'yargs';
import { DEVICES } from '../inference/providers.js';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';

/** Options every model-running command shares. */
export function modelOptions<T>(y: Argv<T>) {
  return y
    .option('model', { alias: 'm', type: 'string', default: DEFAULTS.model, describe: 'model id, or path to a model.json' })
    .option('model-dir', { type: 'string', array: true, describe: 'extra folder(s) to search for models (also STREAM_SR_MODEL_PATH)' })
    .option('scale', { alias: 's', type: 'number', default: DEFAULTS.scale, choices: [2, 4], describe: 'upscale factor' })
    .option('device', { alias: 'd', type: 'string', default: DEFAULTS.device, choices: DEVICES as string[], describe: 'execution device; falls back to CPU with a warning' })
    .option('gpu', { type: 'number', describe: 'GPU index for cuda/tensorrt' })
    .option('threads', { type: 'number', describe: 'inference threads (default: one per core)' })
    .option('engine-cache', { type: 'string', describe: 'TensorRT engine cache folder (default: $XDG_CACHE_HOME/stream-sr/trt)' })
    .option('fp16', { type: 'boolean', describe: 'TensorRT: build half-precision engines' })
    .option('image-height', { alias: 'image_height', type: 'number', describe: 'TensorRT: build the engine for this fixed input height' })
    .option('image-width', { alias: 'image_width', type: 'number', describe: 'TensorRT: build the engine for this fixed input width' });
}

/** --image-height/--image-width (the reference tool's --image_height/--image_width) come as a pair. */
export function fixedInputShape(height: number | undefined, width: number | undefined): { height: number; width: number } | undefined {
  if (height === undefined && width === undefined) return undefined;
  const ok = (v: number | undefined): v is number => v !== undefined && Number.isInteger(v) && v > 0;
  if (!ok(height) || !ok(width)) throw new UsageError(`--image-height and --image-width go together, as whole numbers of pixels (got ${height ?? 'none'} x ${width ?? 'none'})`);
  return { height, width };
}

export function logOptions<T>(y: Argv<T>) {
  return y
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line or information, only warnings and errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'more detail, and stack traces on crashes' });
}

/**
 * ffmpeg habits: `-c:v`, `-vcodec`, `-pix_fmt`, `-crf`, `-preset` and `-r` are accepted as aliases
 * of the long options.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  const aliases: Record<string, string> = {
    '-c:v': '--codec',
    '-vcodec': '--codec',
    '-pix_fmt': '--pix-fmt',
    '-crf': '--crf',
    '-preset': '--preset',
  };
  return argv.map((a) => aliases[a] ?? a);
}

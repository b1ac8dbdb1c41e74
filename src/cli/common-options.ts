import type { Argv } from 'yargs';
import { DEVICES } from '../inference/providers.js';
import { DEFAULTS } from '../core/defaults.js';

/** Options every model-running command shares. */
export function modelOptions<T>(y: Argv<T>) {
  return y
    .option('model', { alias: 'm', type: 'string', default: DEFAULTS.model, describe: 'model id, or path to a model.json' })
    .option('model-dir', { type: 'string', array: true, describe: 'extra folder(s) to search for models (also STREAM_SR_MODEL_PATH)' })
    .option('scale', { alias: 's', type: 'number', default: DEFAULTS.scale, choices: [2, 4], describe: 'upscale factor' })
    .option('device', { alias: 'd', type: 'string', default: DEFAULTS.device, choices: DEVICES as string[], describe: 'execution device; falls back to CPU with a warning' })
    .option('gpu', { type: 'number', describe: 'GPU index for cuda/tensorrt' })
    .option('threads', { type: 'number', describe: 'inference threads (default: one per core)' })
    .option('fp16', { type: 'boolean', default: false, describe: 'half-precision graphs on cuda/tensorrt (I/O stays float32)' })
    .option('steps', { type: 'number', describe: 'stream-diffvsr: denoising steps (default: the distilled 4; others warn)' })
    .option('seed', { type: 'number', default: DEFAULTS.seed, describe: 'stream-diffvsr: seed of the per-frame noise (same seed, same output)' })
    .option('reset-threshold', {
      type: 'number',
      default: DEFAULTS.resetThreshold,
      describe: 'stream-diffvsr: scene cut when the mean absolute LR difference (0..1) exceeds this; history is dropped (0: always, 1: never)',
    });
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

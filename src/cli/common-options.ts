import type { Argv } from 'yargs';
import type { Device } from '../inference/providers.js';
import type { SessionSettings } from '../inference/session.js';
import type { DiffVsrOptions } from '../inference/stream-diffvsr/runtime.js';
import { stderrLogger, type Logger } from '../core/log.js';
import { DEVICES } from '../inference/providers.js';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';

/** The stderr logger at the level -v / -q ask for. */
export function loggerFromArgs(args: { verbose?: boolean; quiet?: boolean }): Logger {
  return stderrLogger(args.verbose ? 'verbose' : args.quiet ? 'warning' : 'info');
}

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
    .option('fp16', { type: 'boolean', default: false, describe: 'half precision on cuda/tensorrt (graph I/O stays float32; TensorRT builds fp16 engines)' })
    .option('image-height', { alias: 'image_height', type: 'number', describe: 'TensorRT: output height the engine is built for' })
    .option('image-width', { alias: 'image_width', type: 'number', describe: 'TensorRT: output width the engine is built for' })
    .option('steps', { type: 'number', describe: 'stream-diffvsr: denoising steps (default: the distilled 4; others warn)' })
    .option('seed', { type: 'number', default: DEFAULTS.seed, describe: 'stream-diffvsr: seed of the per-frame noise (same seed, same output)' })
    .option('reset-threshold', {
      type: 'number',
      default: DEFAULTS.resetThreshold,
      describe: 'stream-diffvsr: scene cut when the mean absolute LR difference (0..1) exceeds this; history is dropped (0: always, 1: never)',
    });
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

interface SessionArgs {
  readonly gpu?: number | undefined;
  readonly threads?: number | undefined;
  readonly engineCache?: string | undefined;
  readonly fp16?: boolean | undefined;
  readonly imageHeight?: number | undefined;
  readonly imageWidth?: number | undefined;
  readonly scale: number;
}

/** Diffusion-model options (stream-diffvsr) as every model-running command takes them; other models ignore them. */
export function diffusionFromArgs(args: { steps?: number | undefined; seed: number; resetThreshold: number }): DiffVsrOptions {
  return { ...(args.steps !== undefined ? { steps: args.steps } : {}), seed: args.seed, resetThreshold: args.resetThreshold };
}

/** The session settings every model-running command builds the same way from its options. */
export function sessionFromArgs(args: SessionArgs, device: Device, log: Logger): SessionSettings {
  const shape = fixedInputShape(args.imageHeight, args.imageWidth, args.scale);
  return {
    device: { device, ...(args.gpu !== undefined ? { gpu: args.gpu } : {}) },
    ...(args.threads ? { threads: args.threads } : {}),
    ...(args.engineCache ? { engineCacheDir: args.engineCache } : {}),
    ...(args.fp16 ? { fp16: true } : {}),
    ...(shape ? { fixedInputShape: shape } : {}),
    log,
  };
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

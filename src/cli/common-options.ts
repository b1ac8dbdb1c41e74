import type { Argv } from 'yargs';
import { stderrLogger, type Logger } from '../core/log.js';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { EncoderSettings } from '../av/output.js';

/** The stderr logger at the level -v / -q ask for. */
export function loggerFromArgs(args: { verbose?: boolean; quiet?: boolean }): Logger {
  return stderrLogger(args.verbose ? 'verbose' : args.quiet ? 'warning' : 'info');
}

export function logOptions<T>(y: Argv<T>) {
  return y
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress line or information, only warnings and errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'more detail, and stack traces on crashes' });
}

/** FFmpeg's URL for standard output: an output given as a bare `-` after the options. */
export const STDOUT_URL = 'pipe:1';

/** The commands besides upscale (the default one): their arguments are theirs to read. */
const OTHER_COMMANDS = ['models', 'run', 'serve', 'eval', 'frames', 'worker', 'submit', 'jobs'];

/**
 * ffmpeg habits: `-c:v`, `-vcodec`, `-pix_fmt`, `-crf`, `-preset`, `-copyts` and `-r` are accepted as
 * aliases of the long options, and the output may come last without `-o`.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  const aliases: Record<string, string> = {
    '-c:v': '--codec',
    '-vcodec': '--codec',
    '-pix_fmt': '--pix-fmt',
    '-crf': '--crf',
    '-preset': '--preset',
    '-copyts': '--copyts',
  };
  // the upscale command's output given as a bare `-` without -o (`-f null -`, `-f nut -`): yargs
  // would read a positional `-` as an empty flag, so it goes as FFmpeg's name for stdout (read back
  // as `-`); after -i or -o it is that option's value
  const upscale = !OTHER_COMMANDS.includes(argv.find((a) => !a.startsWith('-')) ?? '');
  return argv.map((a, i) => (upscale && a === '-' && i > 0 && !['-i', '--input', '-o', '--output'].includes(argv[i - 1]!) ? STDOUT_URL : (aliases[a] ?? a)));
}

/** The video encoder's flags, for every command that encodes (upscale, submit). */
export function encoderOptions<T>(y: Argv<T>) {
  return y
    .option('codec', { type: 'string', requiresArg: true, describe: `video encoder (also -c:v); default ${DEFAULTS.videoCodec}, wrapped_avframe for y4m` })
    // a string, so that a refusal quotes what was typed (a number option turns `abc` into NaN)
    .option('crf', { type: 'string', requiresArg: true, default: String(DEFAULTS.crf), describe: 'x264/x265 constant rate factor' })
    .option('preset', { type: 'string', requiresArg: true, default: DEFAULTS.preset, describe: 'x264/x265 preset' })
    .option('tune', { type: 'string', requiresArg: true, describe: 'x264/x265 tune (film, animation, grain, zerolatency...; live outputs default to zerolatency)' })
    .option('pix-fmt', { type: 'string', requiresArg: true, describe: "output pixel format (default: the input's, or the nearest the encoder takes)" });
}

export function encoderSettingsFrom(args: { codec?: string | undefined; crf: string; preset: string; tune?: string | undefined }): EncoderSettings {
  const crf = /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(args.crf) ? Number(args.crf) : NaN;
  if (Number.isNaN(crf)) throw new UsageError(`--crf ${args.crf || "''"}: not a number`);
  return { ...(args.codec ? { codec: args.codec } : {}), crf, preset: args.preset, ...(args.tune ? { options: { tune: args.tune } } : {}) };
}

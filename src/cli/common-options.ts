import type { Argv } from 'yargs';
import { stderrLogger, type Logger } from '../core/log.js';

/** The stderr logger at the level -v / -q ask for. */
export function loggerFromArgs(args: { verbose?: boolean; quiet?: boolean }): Logger {
  return stderrLogger(args.verbose ? 'verbose' : args.quiet ? 'warning' : 'info');
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

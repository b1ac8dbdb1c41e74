import { BrokenPipeError, PipelineError, StoppedBeforeStartError, UsageError, errorMessage } from '../core/errors.js';

/** Prints an error the way the CLI promises (one line; a stack only with --verbose) and returns the exit code. */
export function reportError(err: unknown, verbose: boolean, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof BrokenPipeError) return 0;
  if (err instanceof StoppedBeforeStartError) {
    write(`stream-sr: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof UsageError) {
    write(`stream-sr: ${err.message}\n`);
    return 2;
  }
  if (err instanceof PipelineError) {
    write(`stream-sr: error in ${err.stage}: ${err.message}\n`);
    if (verbose) write(`${causeChain(err)}\n`);
    return err.exitCode;
  }
  write(`stream-sr: internal error: ${errorMessage(err)}\n`);
  if (verbose && err instanceof Error && err.stack) write(`${err.stack}\n`);
  else write('stream-sr: run with --verbose for the stack trace\n');
  return 1;
}

function causeChain(err: Error): string {
  const lines: string[] = [];
  let e: unknown = err;
  while (e instanceof Error) {
    lines.push(e.stack ?? e.message);
    e = e.cause;
  }
  if (e !== undefined) lines.push(String(e));
  return lines.join('\ncaused by: ');
}

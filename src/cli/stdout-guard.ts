import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { setStdoutStreamFd } from '../core/stream-fd.js';
import { STDOUT_URL } from './common-options.js';

/**
 * Keeps stdout for the stream only. Native code (beamcoder, FFmpeg, x264) prints with printf to
 * fd 1, which would corrupt a stream written to stdout. Node cannot dup2, but POSIX open() takes the
 * lowest free descriptor: reopen stdout's target as a new descriptor for the stream, close fd 1 and
 * open stderr's target again, which becomes fd 1. Done only where stdout can be reopened at the
 * same place: a pipe, a terminal or /dev/null, or a regular file at offset 0 or opened for
 * appending (a socket cannot be reopened through /proc, so it is left as it is).
 */
export function moveStdoutAside(): void {
  try {
    const st = fstatSync(1);
    let flags = constants.O_WRONLY;
    if (st.isFile()) {
      const info = readFileSync('/proc/self/fdinfo/1', 'utf8');
      const pos = Number(/^pos:\s*(\d+)/m.exec(info)?.[1] ?? NaN);
      const openFlags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
      if (openFlags & constants.O_APPEND) flags |= constants.O_APPEND;
      else if (pos !== 0) return;
    } else if (!st.isFIFO() && !st.isCharacterDevice()) {
      return;
    }
    // where native prints will go: stderr, or /dev/null where stderr cannot be reopened (a socket)
    let sideTarget = '/proc/self/fd/2';
    try {
      closeSync(openSync(sideTarget, constants.O_WRONLY | constants.O_APPEND));
    } catch {
      sideTarget = '/dev/null';
    }
    const stream = openSync('/proc/self/fd/1', flags);
    closeSync(1);
    const side = openSync(sideTarget, constants.O_WRONLY | constants.O_APPEND);
    if (side !== 1) {
      // fd 0 was free and took it: give fd 1 back to the stream and leave things as they were
      closeSync(side);
      openSync(`/proc/self/fd/${stream}`, flags);
      closeSync(stream);
      return;
    }
    setStdoutStreamFd(stream);
  } catch {
    // no /proc, or stdout closed: keep fd 1 as it is
  }
}

/** `-o -` (or `--output -`) among the (normalised) arguments, or the output given as `-` or `pipe:1` without -o: stdout will carry the stream. */
export function writesStreamToStdout(argv: readonly string[]): boolean {
  return argv.some((a, i) => ((a === '-o' || a === '--output') && (argv[i + 1] === '-' || argv[i + 1] === STDOUT_URL)) || a === '--output=-' || a === '-o-' || a === STDOUT_URL);
}

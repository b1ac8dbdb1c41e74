/**
 * The file descriptor that carries the output stream for `-o -`: 1, unless the CLI moved the
 * process's stdout aside so that native code's printf (beamcoder prints "DEBUG: ..." lines with
 * printf when closing a file fails, e.g. on a full disk) lands on stderr instead of in the stream.
 */
let streamFd = 1;

export function stdoutStreamFd(): number {
  return streamFd;
}

export function setStdoutStreamFd(fd: number): void {
  streamFd = fd;
}

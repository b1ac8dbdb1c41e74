export type LogLevel = 'quiet' | 'error' | 'warning' | 'info' | 'verbose';

const ORDER: Record<LogLevel, number> = { quiet: 0, error: 1, warning: 2, info: 3, verbose: 4 };

/** Everything we say goes to stderr: stdout may be carrying the video stream. */
export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  verbose(msg: string): void;
}

export function stderrLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at = ORDER[level];
  const emit = (min: number, prefix: string) => (msg: string) => {
    if (at >= min) write(`${prefix}${msg}\n`);
  };
  return {
    error: emit(1, 'stream-sr: error: '),
    warn: emit(2, 'stream-sr: warning: '),
    info: emit(3, 'stream-sr: '),
    verbose: emit(4, 'stream-sr: '),
  };
}

/** A logger that keeps lines in memory (tests, services). */
export function memoryLogger(lines: string[] = []): Logger & { lines: string[] } {
  const push = (kind: string) => (msg: string) => lines.push(`${kind}: ${msg}`);
  return { lines, error: push('error'), warn: push('warning'), info: push('info'), verbose: push('verbose') };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, verbose() {} };

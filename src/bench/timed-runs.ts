import { spawnSync } from 'node:child_process';

/** A command run to its end, timed: wall ms, exit status and stderr (ffmpeg's reference runs). */
export function sh(cmd: string, args: string[]): { ms: number; status: number | null; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ms: performance.now() - t0, status: r.status, stderr: r.stderr };
}

/** The middle run by `key` (runs alternated with their reference, so a load that changes treats all alike). */
export function median<T>(xs: readonly T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;
}

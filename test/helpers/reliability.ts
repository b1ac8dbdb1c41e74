import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type { CliResult } from './cli.js';

/** What ffprobe/ffmpeg make of an output: readable at all, and how many video frames decode. */
export interface OutputState {
  readonly exists: boolean;
  readonly readable: boolean;
  readonly frames: number;
}

/** Decodes every video frame with ffmpeg itself (timestamps passed through, none dropped). */
export function decodedFrames(path: string, inputArgs: string[] = []): { status: number | null; frames: number; stderr: string } {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', ...inputArgs, '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'framecrc', '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, frames: r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length, stderr: r.stderr };
}

export function outputState(path: string): OutputState {
  if (!existsSync(path) || statSync(path).size === 0) return { exists: existsSync(path), readable: false, frames: 0 };
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  if (probe.status !== 0 || !/video/.test(probe.stdout)) return { exists: true, readable: false, frames: 0 };
  return { exists: true, readable: true, frames: decodedFrames(path).frames };
}

/** "N frames written" from the CLI's summary line; undefined when it printed none. */
export function framesReported(stderr: string): number | undefined {
  const m = /(\d+) frames written/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Our own lines (FFmpeg's bracketed log lines and x264's are its own context, not ours). */
export function ownLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('stream-sr:'));
}

/** Our own lines that are not warnings: the one message a failure must print. */
export function ownMessages(stderr: string): string[] {
  return ownLines(stderr).filter((l) => !l.startsWith('stream-sr: warning:'));
}

/** A native crash: killed by a signal we did not send, or 128+N, or the segfault handler's trace. */
export function nativeCrash(r: Pick<CliResult, 'code' | 'signal' | 'stderr'>, sent?: NodeJS.Signals): string | undefined {
  if (r.signal && r.signal !== sent) return `killed by ${r.signal}`;
  if (r.code !== null && r.code >= 128 && !(sent && [130, 143].includes(r.code))) return `exit ${r.code}`;
  if (/received SIGSEGV|Segmentation fault|SIGABRT/.test(r.stderr)) return 'segfault trace on stderr';
  return undefined;
}

/** One row of the README's reliability table. */
export interface MatrixRow {
  readonly case: string;
  readonly exit: string;
  readonly message: string;
  readonly output: string;
}

export function formatMatrix(rows: readonly MatrixRow[]): string {
  const lines = ['| case | exit | message | output |', '| --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.case} | ${r.exit} | ${r.message.replace(/\|/g, '\\|')} | ${r.output} |`);
  return lines.join('\n');
}


import type { Frame, VideoInfo } from '../core/frame.js';
import { toNumber } from '../core/rational.js';
import type { RunStats } from '../core/stats.js';

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'N/A';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(2).padStart(5, '0')}`;
}

/** ffmpeg-style progress line: frame, fps, media time, speed, and ETA when the duration is known. */
export function progressLine(frame: Frame, input: VideoInfo, stats: RunStats, startPts: number): string {
  const elapsed = stats.elapsedMs() / 1000;
  const done = stats.get('framesOut');
  const fps = elapsed > 0 ? done / elapsed : 0;
  const mediaTime = ((frame.pts - startPts) + frame.duration) * toNumber(input.timeBase);
  const speed = elapsed > 0 ? mediaTime / elapsed : 0;
  let line = `frame=${String(done).padStart(6)} fps=${fps.toFixed(2).padStart(6)} time=${clock(mediaTime)} speed=${speed.toFixed(3)}x`;
  if (input.durationSeconds && speed > 0) line += ` eta=${clock((input.durationSeconds - mediaTime) / speed)}`;
  return line;
}

/** Writes the progress line to stderr: rewritten in place on a terminal, else once every few seconds. */
export class ProgressReporter {
  private lastPrint = 0;
  private startPts: number | undefined;
  private printed = false;

  constructor(
    private readonly input: VideoInfo,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = stream.isTTY ? 250 : 5000,
  ) {}

  update(frame: Frame, stats: RunStats): void {
    this.startPts ??= frame.pts;
    const now = performance.now();
    if (now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    this.write(progressLine(frame, this.input, stats, this.startPts));
  }

  private write(line: string): void {
    this.printed = true;
    this.stream.write(this.stream.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(): void {
    if (this.printed && this.stream.isTTY) this.stream.write('\n');
  }
}

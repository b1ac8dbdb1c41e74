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

/** What `--progress json` prints: one object per line, numbers in seconds and frames. */
export interface ProgressRecord {
  /** Frames written. */
  readonly frame: number;
  readonly framesIn: number;
  readonly dropped: number;
  /** Frames written per second since the start. */
  readonly fps: number;
  /** Media time written, seconds from the first frame. */
  readonly time: number;
  /** Media seconds per wall-clock second. */
  readonly speed: number;
  readonly elapsed: number;
  /** Seconds left, and how far along: null when the input's duration is unknown (pipes, live). */
  readonly eta: number | null;
  readonly percent: number | null;
  /** True on the last line, written as the run ends. */
  readonly done: boolean;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

export function progressRecord(frame: Frame, input: VideoInfo, stats: RunStats, startPts: number, done: boolean): ProgressRecord {
  const elapsed = stats.elapsedMs() / 1000;
  const written = stats.get('framesOut');
  const time = (frame.pts - startPts + frame.duration) * toNumber(input.timeBase);
  const speed = elapsed > 0 ? time / elapsed : 0;
  const total = input.durationSeconds;
  return {
    frame: written,
    framesIn: stats.get('framesIn'),
    dropped: stats.get('framesDropped'),
    fps: round(elapsed > 0 ? written / elapsed : 0, 2),
    time: round(time, 3),
    speed: round(speed, 3),
    elapsed: round(elapsed, 3),
    eta: total && speed > 0 ? round(Math.max(0, (total - time) / speed), 1) : null,
    percent: total ? round(Math.min(100, (100 * time) / total), 1) : null,
    done,
  };
}

/**
 * `--progress json`: one JSON line a second on stderr for scripts (and a last one with done: true),
 * on a timer, so a stalled live input still reports.
 */
export class JsonProgressReporter {
  private latest: { frame: Frame; stats: RunStats } | undefined;
  private startPts: number | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly input: VideoInfo,
    private readonly stream: NodeJS.WritableStream = process.stderr,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => this.write(false), intervalMs);
    this.timer.unref();
  }

  update(frame: Frame, stats: RunStats): void {
    this.startPts ??= frame.pts;
    this.latest = { frame, stats };
  }

  private write(done: boolean): void {
    if (!this.latest) return;
    this.stream.write(`${JSON.stringify(progressRecord(this.latest.frame, this.input, this.latest.stats, this.startPts!, done))}\n`);
  }

  finish(): void {
    this.stop();
    this.write(true);
  }

  /** Stops the lines without a last one (the run failed: its error says why). */
  stop(): void {
    clearInterval(this.timer);
  }
}

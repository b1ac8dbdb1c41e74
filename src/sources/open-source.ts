import type { RunStats } from '../core/stats.js';
import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Rational } from '../core/rational.js';
import { AvSource, type FrameRange } from './av-source.js';
import { PngFolderSource } from './png-folder.js';
import type { Source } from './source.js';
import type { Logger } from '../core/log.js';
import { LiveSource } from './live-source.js';
import { isLiveUrl, type LiveSettings } from './live-options.js';

export interface SourceRequest {
  /** Path, URL, '-' for stdin, or a folder of PNG frames. */
  readonly input: string;
  /** FFmpeg input format name (like ffmpeg's -f before -i). */
  readonly format?: string;
  /** Frame rate for a PNG folder. */
  readonly frameRate?: Rational;
  readonly options?: Readonly<Record<string, string>>;
  /** Part of a file only (a chunk of a queued job). */
  readonly range?: FrameRange;
  /** -copyts: a file's outputs keep its timestamps instead of starting at 0. */
  readonly copyTimestamps?: boolean;
  /** How live inputs (rtsp, srt, rtmp, udp, HLS over http) are read; without it they are read like files. */
  readonly live?: { readonly settings: LiveSettings; readonly log: Logger; readonly signal?: AbortSignal; readonly stats?: RunStats };
}

export function isUrl(name: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(name) || /^(pipe|fd):/.test(name);
}

/** Picks the source for an input name, failing early with one line for missing or empty files. */
export function createSource(req: SourceRequest): Source {
  const { input } = req;
  // FFmpeg's -r also retimes files; here it only sets a PNG folder's rate, so elsewhere it is refused, not ignored
  const noRate = (): void => {
    if (req.frameRate) throw new UsageError(`input '${input}': -r sets the frame rate of a folder of PNG frames; a file or stream keeps its own timestamps`);
  };
  if (req.live && isLiveUrl(input)) {
    noRate();
    const { settings, log, signal, stats } = req.live;
    return new LiveSource({ input, ...(req.format ? { format: req.format } : {}), ...(req.options ? { options: req.options } : {}), live: settings, log, ...(signal ? { signal } : {}), ...(stats ? { stats } : {}) });
  }
  if (input === '-' || isUrl(input)) {
    noRate();
    return new AvSource(req);
  }
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw new UsageError(`input '${input}': no such file or directory`);
  }
  if (stat.isDirectory()) return new PngFolderSource({ dir: input, ...(req.frameRate ? { frameRate: req.frameRate } : {}) });
  if (stat.size === 0) throw new UsageError(`input '${input}': the file is empty`);
  noRate();
  return new AvSource(req);
}

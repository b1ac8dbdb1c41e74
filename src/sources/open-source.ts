import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Rational } from '../core/rational.js';
import { AvSource } from './av-source.js';
import { PngFolderSource } from './png-folder.js';
import type { Source } from './source.js';

export interface SourceRequest {
  /** Path, URL, '-' for stdin, or a folder of PNG frames. */
  readonly input: string;
  /** FFmpeg input format name (like ffmpeg's -f before -i). */
  readonly format?: string;
  /** Frame rate for a PNG folder. */
  readonly frameRate?: Rational;
  readonly options?: Readonly<Record<string, string>>;
}

export function isUrl(name: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(name) || /^(pipe|fd):/.test(name);
}

/** Picks the source for an input name, failing early with one line for missing or empty files. */
export function createSource(req: SourceRequest): Source {
  const { input } = req;
  if (input === '-' || isUrl(input)) return new AvSource(req);
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw new UsageError(`input '${input}': no such file or directory`);
  }
  if (stat.isDirectory()) return new PngFolderSource({ dir: input, ...(req.frameRate ? { frameRate: req.frameRate } : {}) });
  if (stat.size === 0) throw new UsageError(`input '${input}': the file is empty`);
  return new AvSource(req);
}

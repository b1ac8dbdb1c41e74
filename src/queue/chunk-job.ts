import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { scanVideo } from '../av/scan.js';
import { muxerForPath } from '../av/containers.js';
import { rescale } from '../core/rational.js';
import { PipelineError, UsageError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { defaultLiveSettings } from '../sources/live-options.js';
import { DEFAULTS } from '../core/defaults.js';
import { runSpec } from '../pipeline/run-spec.js';
import type { PipelineSpec } from '../pipeline/spec.js';
import type { ChunkJobData } from './job-data.js';

/**
 * Whether the chunk's final file is there and complete: the same number of frames, starting at
 * the same time. A file is renamed into place only once finished, so this finds the chunks a
 * stopped job had done (resume) and never trusts a half-written one.
 */
export async function chunkComplete(data: ChunkJobData): Promise<boolean> {
  if (!existsSync(data.file)) return false;
  try {
    const scan = await scanVideo(data.file, data.file);
    return scan.pts.length === data.plan.frames && rescale(scan.pts[0]!, scan.timeBase, data.timeBase) === data.plan.writeFrom;
  } catch {
    return false;
  }
}

export interface ChunkRun {
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly hardSignal?: AbortSignal;
  /** Frames written so far, of data.plan.frames. */
  readonly onProgress: (written: number) => void;
  readonly token: string;
}

/** The pipeline of one chunk: its range of the input, the model, a file of the input's timestamps (MP4 or MOV, as its name says). */
export function chunkSpec(data: ChunkJobData, output: string): PipelineSpec {
  return {
    id: `${data.job}-c${data.plan.index}`,
    source: { url: data.input, range: data.plan.range },
    live: defaultLiveSettings(),
    model: data.model,
    fallbackModel: DEFAULTS.fallbackModel,
    latencyBudgetMs: DEFAULTS.latencyBudgetMs,
    outputs: [{ output, format: muxerForPath(data.file) ?? 'mp4', encoder: data.encoder, ...(data.pixelFormat ? { pixelFormat: data.pixelFormat } : {}), writeFrom: data.plan.writeFrom }],
    maxInFlight: data.maxInFlight,
    restart: { enabled: false, initialDelayMs: 0, maxDelayMs: 0, maxAttempts: 0 },
    overwrite: true,
    ...(data.inject ? { inject: data.inject } : {}),
  };
}

/**
 * Upscales one chunk into a temporary file beside its final name and renames it into place, so a
 * chunk redone after a crash replaces the file whole and a reader never sees half of one.
 * Returns whether the chunk was already complete (nothing done).
 */
export async function runChunk(data: ChunkJobData, run: ChunkRun): Promise<{ reused: boolean; frames: number; model?: string }> {
  if (await chunkComplete(data)) return { reused: true, frames: data.plan.frames };
  mkdirSync(dirname(data.file), { recursive: true });
  const temp = join(dirname(data.file), `.${basename(data.file)}.${hostname()}-${process.pid}-${run.token.slice(0, 8)}.part`);
  let written = 0;
  let model: string | undefined;
  try {
    const { summary } = await runSpec(chunkSpec(data, temp), {
      log: run.log,
      onStart: (info) => (model = info.model),
      signal: run.signal,
      ...(run.hardSignal ? { hardSignal: run.hardSignal } : {}),
      onFrame: (frame) => {
        if (frame.pts >= data.plan.writeFrom) run.onProgress(++written);
      },
    });
    if (summary.state !== 'completed') throw new ChunkStopped();
    if (written !== data.plan.frames) {
      throw new PipelineError('pipeline', `wrote ${written} frames where the input has ${data.plan.frames} from ${data.plan.writeFrom}`);
    }
    renameSync(temp, data.file);
    return { reused: false, frames: written, ...(model ? { model } : {}) };
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** The worker was told to stop at once: the chunk goes back to the queue. */
export class ChunkStopped extends Error {
  constructor() {
    super('stopped before the chunk was finished');
  }
}

/** The chunk's error as the CLI would print it, with which chunk it was. */
export function chunkMessage(data: ChunkJobData, err: unknown): string {
  const what = err instanceof PipelineError ? `error in ${err.stage}: ${err.message}` : err instanceof UsageError ? err.message : errorMessage(err);
  return `chunk ${data.plan.index + 1}/${data.count} of job ${data.job}: ${what}`;
}

import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { joinChunks } from '../av/join.js';
import { scanVideo } from '../av/scan.js';
import { rescale } from '../core/rational.js';
import { PipelineError } from '../core/errors.js';
import type { JoinJobData } from './job-data.js';

/**
 * Checks that every chunk is there, whole and once (its frame count and first timestamp as
 * planned), joins them with the source's audio and subtitles into a temporary file beside the
 * output, renames that into place, and removes the chunk folder.
 */
export async function runJoin(data: JoinJobData, token: string): Promise<{ frames: number; warnings: readonly string[] }> {
  let frames = 0;
  for (const [i, c] of data.chunks.entries()) {
    if (!existsSync(c.file)) throw new PipelineError('join', `chunk ${i + 1}/${data.chunks.length} is missing: ${c.file}`);
    const scan = await scanVideo(c.file, c.file);
    const first = scan.pts.length ? rescale(scan.pts[0]!, scan.timeBase, data.timeBase) : undefined;
    if (scan.pts.length !== c.frames || first !== c.writeFrom) {
      throw new PipelineError('join', `chunk ${i + 1}/${data.chunks.length} (${c.file}) has ${scan.pts.length} frames from pts ${first}, expected ${c.frames} from ${c.writeFrom}`);
    }
    frames += c.frames;
  }
  if (frames !== data.frames) throw new PipelineError('join', `the chunks hold ${frames} frames, the input ${data.frames}`);
  const ext = /\.[A-Za-z0-9]+$/.exec(data.output)?.[0] ?? '';
  const temp = join(dirname(data.output), `.${basename(data.output)}.${hostname()}-${process.pid}-${token.slice(0, 8)}.part${ext}`);
  const result = await joinChunks({ source: data.input, chunks: data.chunks.map((c) => c.file), output: data.output, tempPath: temp, container: data.container, videoTimeBase: data.timeBase, expectedVideoPackets: frames });
  rmSync(data.chunkDir, { recursive: true, force: true });
  return { frames, warnings: result.warnings };
}

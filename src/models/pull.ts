import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { CATALOG, catalogEntry, installHint, type CatalogEntry, type DownloadSource } from './catalog.js';
import { convertNcnnVariants, type NcnnFiles } from './convert-catalog.js';
import { downloadVerified, type DownloadProgress } from './download.js';
import { installModelDir } from './install.js';

export interface PullOptions {
  readonly modelsDir: string;
  /** Replaces the catalog's folder URL (a mirror, or a local server in tests). */
  readonly baseUrl?: string;
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
}

export const BASE_URL_ENV = 'STREAM_SR_MODEL_BASE_URL';

export function pullableIds(): string[] {
  return CATALOG.filter((e) => e.source.kind === 'download').map((e) => e.id);
}

function downloadEntry(id: string): CatalogEntry & { source: DownloadSource } {
  const entry = catalogEntry(id);
  if (!entry) throw new UsageError(`models pull: unknown model '${id}' (can be pulled: ${pullableIds().join(', ')})`);
  if (entry.source.kind !== 'download') throw new UsageError(`models pull: ${id} comes with stream-sr, nothing to download; ${installHint(entry)}`);
  return entry as CatalogEntry & { source: DownloadSource };
}

/**
 * Downloads a catalog model's published files, checks each sha256, converts them to ONNX, checks
 * the result runs, and only then registers it as `modelsDir/<id>`.
 */
export async function pullModel(id: string, opts: PullOptions): Promise<string> {
  const entry = downloadEntry(id);
  const base = (opts.baseUrl ?? entry.source.baseUrl).replace(/\/+$/, '');
  return installModelDir(opts.modelsDir, id, async (dir) => {
    const downloads = join(dir, '.download');
    await mkdir(downloads);
    const files: NcnnFiles[] = [];
    const fetched = new Map<string, string>();
    for (const v of entry.source.variants) {
      for (const f of [v.param, v.bin]) {
        if (fetched.has(f.name)) continue;
        const dest = join(downloads, f.name);
        await downloadVerified(`${base}/${f.name}`, dest, { sha256: f.sha256, expectedBytes: f.bytes, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
        fetched.set(f.name, dest);
      }
      files.push({ scale: v.scale, param: fetched.get(v.param.name)!, bin: fetched.get(v.bin.name)! });
    }
    await convertNcnnVariants(entry, files, dir, { downloadedFrom: base });
    await rm(downloads, { recursive: true, force: true });
  });
}

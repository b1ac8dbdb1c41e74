import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { PipelineError, errorMessage } from '../core/errors.js';

export interface DownloadProgress {
  readonly file: string;
  readonly received: number;
  /** From Content-Length, or the size the catalog expects. */
  readonly total: number;
  readonly done: boolean;
}

export interface DownloadOptions {
  readonly sha256: string;
  readonly expectedBytes?: number;
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
}

function downloadError(url: string, message: string, cause?: unknown): PipelineError {
  return new PipelineError('download', `${url}: ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * Streams `url` into `dest`, hashing as it goes. Any failure (HTTP status, a connection cut before
 * Content-Length bytes, a sha256 that differs) removes `dest` and throws naming the URL.
 */
export async function downloadVerified(url: string, dest: string, opts: DownloadOptions): Promise<void> {
  const file = url.slice(url.lastIndexOf('/') + 1);
  const out = await open(dest, 'w');
  try {
    const res = await fetch(url, { redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) }).catch((err: unknown) => {
      throw downloadError(url, `cannot connect (${errorMessage((err as Error).cause ?? err)})`, err);
    });
    if (!res.ok || !res.body) throw downloadError(url, `HTTP ${res.status} ${res.statusText}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(declared) ? declared : (opts.expectedBytes ?? 0);
    const hash = createHash('sha256');
    let received = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        await out.write(chunk);
        received += chunk.length;
        opts.onProgress?.({ file, received, total, done: false });
      }
    } catch (err) {
      throw downloadError(url, `connection lost after ${received} of ${total || '?'} bytes (${errorMessage((err as Error).cause ?? err)})`, err);
    }
    if (Number.isFinite(declared) && received !== declared) throw downloadError(url, `connection closed after ${received} of ${declared} bytes`);
    const sha256 = hash.digest('hex');
    if (sha256 !== opts.sha256) throw downloadError(url, `sha256 mismatch: got ${sha256}, expected ${opts.sha256} (${received} bytes); the file was not used`);
    opts.onProgress?.({ file, received, total: total || received, done: true });
    await out.close();
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(dest, { force: true });
    throw err;
  }
}

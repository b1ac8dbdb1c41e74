import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { packageRoot } from '../core/package-root.js';
import type { SupervisedPipeline } from '../pipeline/supervisor.js';

/**
 * The web console's routes, beside the JSON API on the same listener. Its page, script and style
 * (and hls.js) come from the package itself, nothing from elsewhere; they hold no data, so they load
 * without the token, and the page then sends the token as a bearer header on every API call.
 */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => join(packageRoot(), 'console', 'index.html'), type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: () => join(packageRoot(), 'console', 'console.js'), type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: () => join(packageRoot(), 'console', 'console.css'), type: 'text/css; charset=utf-8' },
  '/console/hls.min.js': { file: () => createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'), type: 'text/javascript; charset=utf-8' },
};

/** Whether the page must ask for a token: it then makes no API call before it has one. */
const CONFIG = '/console/config.json';

export function isConsoleAsset(path: string): boolean {
  return path in ASSETS || path === CONFIG;
}

export async function sendConsoleAsset(path: string, res: ServerResponse, tokenRequired: boolean): Promise<void> {
  const asset = ASSETS[path];
  const body = asset ? await readFile(asset.file()) : `${JSON.stringify({ tokenRequired })}\n`;
  res.writeHead(200, {
    'content-type': asset?.type ?? 'application/json; charset=utf-8',
    'cache-control': asset ? 'no-cache' : 'no-store',
    // the page may talk to this service only, and run only the scripts it serves
    'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; worker-src 'self' blob:; style-src 'self'; script-src 'self'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

/** The HLS outputs of a pipeline: the folder each playlist is written to, and the playlist's name. */
export function hlsOutputs(p: SupervisedPipeline): Array<{ dir: string; playlist: string }> {
  return p.spec.outputs.filter((o) => o.format === 'hls' || /\.m3u8$/i.test(o.output)).map((o) => ({ dir: dirname(o.output), playlist: basename(o.output) }));
}

type Send = (res: ServerResponse, status: number, body: unknown, type?: string) => void;

/**
 * GET /pipelines/{id}/history (recent samples, log lines, HLS playlists), GET
 * /pipelines/{id}/preview.png?side=before|after, GET /pipelines/{id}/hls/{n}/{file}. Returns
 * false when the path is none of these (the API handles it).
 */
export async function handleConsoleRoute(req: IncomingMessage, res: ServerResponse, path: string, pipelines: ReadonlyMap<string, SupervisedPipeline>, send: Send): Promise<boolean> {
  const m = /^\/pipelines\/([^/]+)\/(history|preview\.png|hls\/(\d+)\/([^/]+))$/.exec(path);
  if (!m) return false;
  const pipeline = pipelines.get(decodeURIComponent(m[1]!));
  if (!pipeline) return false;
  if ((req.method ?? 'GET') !== 'GET') {
    res.setHeader('allow', 'GET');
    send(res, 405, { error: 'use GET' });
    return true;
  }
  const id = encodeURIComponent(pipeline.id);
  if (m[2] === 'history') {
    const hls = hlsOutputs(pipeline).map((o, n) => `/pipelines/${id}/hls/${n}/${encodeURIComponent(o.playlist)}`);
    send(res, 200, { id: pipeline.id, ...pipeline.history.view(), hls });
    return true;
  }
  if (m[2] === 'preview.png') {
    const side = new URL(req.url ?? '/', 'http://localhost').searchParams.get('side') ?? 'after';
    if (side !== 'before' && side !== 'after') {
      send(res, 400, { error: `side=${side}: expected before (the source frame scaled up with bicubic) or after (the model's output)` });
      return true;
    }
    const images = await pipeline.preview.current();
    // 204 until the pipeline has given a picture: the page keeps its placeholder, and nothing is an error
    if (!images) {
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store', 'x-frame-index': String(images.index), 'last-modified': new Date(images.at).toUTCString() });
    res.end(side === 'before' ? images.before : images.after);
    return true;
  }
  await sendHlsFile(res, pipeline, Number(m[3]), decodeURIComponent(m[4]!), send);
  return true;
}

/** Only the playlist of that output and the segments FFmpeg's hls muxer names after it. */
async function sendHlsFile(res: ServerResponse, pipeline: SupervisedPipeline, n: number, name: string, send: Send): Promise<void> {
  const out = hlsOutputs(pipeline)[n];
  const stem = out ? basename(out.playlist, extname(out.playlist)) : '';
  const isPlaylist = out !== undefined && name === out.playlist;
  const isSegment = out !== undefined && name.startsWith(`${stem}-`) && /^\d+\.ts$/.test(name.slice(stem.length + 1));
  if (!out || (!isPlaylist && !isSegment)) return send(res, 404, { error: `no HLS file '${name}' in output ${n} of pipeline '${pipeline.id}'` });
  let body: Buffer;
  try {
    body = await readFile(join(out.dir, name));
  } catch {
    return send(res, 404, { error: `'${name}' is not there (yet, or any more: the playlist keeps the last few segments)` });
  }
  res.writeHead(200, { 'content-type': isPlaylist ? 'application/vnd.apple.mpegurl' : 'video/mp2t', 'cache-control': isPlaylist ? 'no-store' : 'max-age=60' });
  res.end(body);
}

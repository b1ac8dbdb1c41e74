import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { SupervisedPipeline, PipelineStatus } from '../pipeline/supervisor.js';
import { handleConsoleRoute, isConsoleAsset, sendConsoleAsset } from './console-routes.js';
import { prometheusText } from './metrics.js';

export interface ApiOptions {
  readonly pipelines: ReadonlyMap<string, SupervisedPipeline>;
  /** Every request but /health must carry `Authorization: Bearer <token>` when set. */
  readonly token?: string;
  readonly startedAt: number;
}

/** The JSON shape of one pipeline in GET /pipelines. */
function view(s: PipelineStatus) {
  const m = s.metrics;
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
  return {
    id: s.id,
    state: s.state,
    description: s.description,
    inputFps: round(m.inputFps),
    outputFps: round(m.outputFps),
    latencyMs: { p50: round(m.latencyP50Ms), p95: round(m.latencyP95Ms) },
    framesIn: m.framesIn,
    framesOut: m.framesOut,
    drops: m.framesDropped,
    fallbacks: m.fallbackFrames,
    modelFrames: m.modelFrames,
    restarts: s.restarts,
    reconnects: m.reconnects,
    lastError: s.lastError,
    pid: s.pid,
  };
}

export function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, { 'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type, 'cache-control': 'no-store' });
  res.end(text);
}

export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * GET /health, GET /pipelines, GET /pipelines/{id}, POST /pipelines/{id}/start and /stop,
 * GET /metrics (Prometheus text); the web console at / and its routes (console-routes.ts). Nothing
 * here runs a command or reads a file a request names (the console's HLS route serves only the
 * playlist and segments of a pipeline's own HLS output): pipelines are the ones the service was
 * started with.
 */
export function createApiServer(opts: ApiOptions): Server {
  const server = createServer((req, res) => {
    void handle(req, res, opts).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  // longer than the usual scraper and load-balancer idle times, so they rarely reuse a closing socket
  server.keepAliveTimeout = 65_000;
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ApiOptions): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  // HEAD is GET without the body (load balancers and uptime checks use it)
  if (path === '/health') return method === 'GET' || method === 'HEAD' ? send(res, 200, { status: 'ok', pipelines: opts.pipelines.size, uptimeSeconds: Math.round((Date.now() - opts.startedAt) / 1000) }) : methodNotAllowed(res, 'GET, HEAD');
  if (method === 'GET' && isConsoleAsset(path)) return sendConsoleAsset(path, res, Boolean(opts.token));
  if (!authorized(req, opts.token)) {
    res.setHeader('www-authenticate', 'Bearer realm="stream-sr"');
    return send(res, 401, { error: 'a bearer token is required (Authorization: Bearer <token>)' });
  }
  const all = [...opts.pipelines.values()];
  if (path === '/metrics') return method === 'GET' ? send(res, 200, prometheusText(all.map((p) => p.status()), (Date.now() - opts.startedAt) / 1000, all.map((p) => p.preview.frameCopies)), 'text/plain; version=0.0.4; charset=utf-8') : methodNotAllowed(res, 'GET');
  if (await handleConsoleRoute(req, res, path, opts.pipelines, send)) return;
  if (path === '/pipelines') return method === 'GET' ? send(res, 200, all.map((p) => view(p.status()))) : methodNotAllowed(res, 'GET');
  const m = /^\/pipelines\/([^/]+)(?:\/(start|stop))?$/.exec(path);
  if (!m) return send(res, 404, { error: `no such endpoint: ${path}` });
  const id = decodedId(m[1]!);
  if (id === undefined) return send(res, 400, { error: `malformed percent-escape in the pipeline id '${m[1]}'` });
  const pipeline = opts.pipelines.get(id);
  if (!pipeline) return send(res, 404, { error: `no pipeline '${id}' (known: ${[...opts.pipelines.keys()].join(', ')})` });
  if (!m[2]) return method === 'GET' ? send(res, 200, view(pipeline.status())) : methodNotAllowed(res, 'GET');
  if (method !== 'POST') return methodNotAllowed(res, 'POST');
  if (m[2] === 'start') {
    const refusal = pipeline.startRefusal();
    if (refusal) return send(res, 409, { error: refusal });
    pipeline.start();
    return send(res, 202, view(pipeline.status()));
  }
  await pipeline.stop();
  return send(res, 200, view(pipeline.status()));
}

/** The id of /pipelines/{id}, or undefined when its percent-escapes are malformed (`%E0%A4%A`). */
function decodedId(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, { error: `use ${allow}` });
}

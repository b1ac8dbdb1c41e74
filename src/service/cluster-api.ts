import { createServer, type Server } from 'node:http';
import type { ClusterView } from '../queue/live-register.js';
import { authorized, send } from './api-server.js';

export interface ClusterApiOptions {
  readonly view: () => Promise<ClusterView>;
  readonly token?: string;
  readonly startedAt: number;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text of the cluster: workers, queue depth, jobs by state, where each live pipeline runs. */
export function clusterMetrics(v: ClusterView): string {
  const lines = [
    '# HELP stream_sr_cluster_workers Workers connected to the queue.',
    '# TYPE stream_sr_cluster_workers gauge',
    `stream_sr_cluster_workers ${v.workers.length}`,
    '# HELP stream_sr_cluster_queue_depth Jobs waiting for a worker (waiting, prioritized, delayed).',
    '# TYPE stream_sr_cluster_queue_depth gauge',
    `stream_sr_cluster_queue_depth ${v.queueDepth}`,
    '# HELP stream_sr_cluster_jobs Jobs on the queue by state (chunks, joins and live pipelines).',
    '# TYPE stream_sr_cluster_jobs gauge',
    ...Object.entries(v.jobs).map(([state, n]) => `stream_sr_cluster_jobs{state="${esc(state)}"} ${n}`),
    '# HELP stream_sr_cluster_pipeline_worker 1 for the worker each live pipeline runs on.',
    '# TYPE stream_sr_cluster_pipeline_worker gauge',
    ...v.pipelines.filter((p) => p.worker).map((p) => `stream_sr_cluster_pipeline_worker{pipeline="${esc(p.id)}",worker="${esc(p.worker!)}"} 1`),
    '# HELP stream_sr_cluster_pipeline_takeovers_total Times a live pipeline moved to another worker.',
    '# TYPE stream_sr_cluster_pipeline_takeovers_total counter',
    ...v.pipelines.map((p) => `stream_sr_cluster_pipeline_takeovers_total{pipeline="${esc(p.id)}"} ${p.takeovers}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `serve --redis`: the pipelines run on the workers; this API shows the cluster. GET /health (no
 * token), GET /pipelines, GET /pipelines/{id}, GET /cluster, GET /metrics.
 */
export function createClusterApiServer(opts: ClusterApiOptions): Server {
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
      if (path === '/health') return send(res, 200, { status: 'ok', mode: 'cluster', uptimeSeconds: Math.round((Date.now() - opts.startedAt) / 1000) });
      if (!authorized(req, opts.token)) return send(res, 401, { error: 'a bearer token is required' });
      const v = await opts.view();
      if (path === '/metrics') return send(res, 200, clusterMetrics(v), 'text/plain; version=0.0.4; charset=utf-8');
      if (path === '/cluster') return send(res, 200, v);
      if (path === '/pipelines') return send(res, 200, v.pipelines);
      const m = /^\/pipelines\/([^/]+)$/.exec(path);
      if (m) {
        const p = v.pipelines.find((x) => x.id === decodeURIComponent(m[1]!));
        return p ? send(res, 200, p) : send(res, 404, { error: 'no such pipeline' });
      }
      return send(res, 404, { error: 'not found' });
    })().catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

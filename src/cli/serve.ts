import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { loadPipelineFile } from '../pipeline/pipeline-file.js';
import { StopSignals } from '../pipeline/signals.js';
import { SupervisedPipeline } from '../pipeline/supervisor.js';
import { createApiServer } from '../service/api-server.js';
import { checkExposure, parseListen, type ListenAddress } from '../service/listen.js';
import { loggerFromArgs, logOptions } from './common-options.js';
import { reportError } from './errors.js';
import { Queue } from 'bullmq';
import { resolve } from 'node:path';
import type { PipelineSpec } from '../pipeline/spec.js';
import { isUrl } from '../sources/open-source.js';
import { QUEUE_NAME, RedisUnreachable, checkRedisUrl, connectOnce, endConnection, lastingConnection } from '../queue/connection.js';
import { clusterView, registerLivePipelines } from '../queue/live-register.js';
import { createClusterApiServer } from '../service/cluster-api.js';

/** The pipeline files named, or every *.yaml, *.yml and *.json in ./pipelines. */
export function pipelineFiles(named: readonly string[]): string[] {
  if (named.length) return [...named];
  let names: string[];
  try {
    names = readdirSync('pipelines');
  } catch {
    throw new UsageError('no pipeline files given and no ./pipelines folder');
  }
  const files = names.filter((n) => /\.(ya?ml|json)$/i.test(n) && !n.endsWith('.schema.json')).sort().map((n) => join('pipelines', n));
  if (!files.length) throw new UsageError('no pipeline files given and none in ./pipelines');
  return files;
}

export async function supervise(files: readonly string[], log: Logger): Promise<Map<string, SupervisedPipeline>> {
  const pipelines = new Map<string, SupervisedPipeline>();
  for (const file of files) {
    const spec = await loadPipelineFile(file);
    if (pipelines.has(spec.id)) throw new UsageError(`${file}: pipeline id '${spec.id}' is already used by another file`);
    pipelines.set(spec.id, new SupervisedPipeline(spec, log));
  }
  return pipelines;
}

function listen(server: Server, addr: ListenAddress): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`--listen ${addr.host}:${addr.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)));
    server.listen(addr.port, addr.host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? { host: addr.host, port: a.port } : addr);
    });
  });
}

async function serve(args: { pipelines: string[]; listen: string; token?: string; redis?: string; verbose: boolean; quiet: boolean }): Promise<void> {
  const log = loggerFromArgs(args);
  if (args.redis) return serveCluster({ ...args, redis: args.redis }, log);
  if (args.verbose) process.env.STREAM_SR_LOG_LEVEL = 'verbose';
  const token = args.token ?? process.env[DEFAULTS.tokenEnv] ?? undefined;
  const requested = parseListen(args.listen);
  checkExposure(requested, token || undefined);
  const pipelines = await supervise(pipelineFiles(args.pipelines), log);
  const server = createApiServer({ pipelines, ...(token ? { token } : {}), startedAt: Date.now() });
  const addr = await listen(server, requested);
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  log.info(`serving ${pipelines.size} pipeline${pipelines.size === 1 ? '' : 's'} (${[...pipelines.keys()].join(', ')}); API on http://${host}:${addr.port}${token ? ' (bearer token required)' : ''}`);
  for (const p of pipelines.values()) p.start();
  // The first SIGINT/SIGTERM drains every pipeline and exits 0; a second one finalizes at once.
  let signals: StopSignals | undefined;
  await new Promise<void>((resolve) => {
    signals = new StopSignals((sig) => {
      log.info(`${sig}: draining every pipeline (sources stop, frames in flight finish, outputs are finalized); again to stop at once`);
      server.close();
      server.closeAllConnections();
      void Promise.all([...pipelines.values()].map((p) => p.stop())).then(() => resolve());
    });
    signals.hardSignal.addEventListener('abort', () => [...pipelines.values()].forEach((p) => p.abort()));
  });
  signals?.dispose();
  log.info('every pipeline stopped and its outputs finalized');
}

/**
 * `serve --redis`: every pipeline goes on the queue as a live job that one worker holds under a
 * lock and another takes over when that worker dies; this process serves the cluster's API.
 * SIGTERM stops the API only: the pipelines belong to the workers and keep running.
 */
async function serveCluster(args: { pipelines: string[]; listen: string; token?: string; redis: string }, log: Logger): Promise<void> {
  checkRedisUrl(args.redis);
  const token = args.token ?? process.env[DEFAULTS.tokenEnv] ?? undefined;
  const requested = parseListen(args.listen);
  checkExposure(requested, token || undefined);
  const files = pipelineFiles(args.pipelines);
  const specs: Array<{ spec: PipelineSpec; file: string }> = [];
  for (const file of files) {
    const spec = await loadPipelineFile(file);
    if (specs.some((x) => x.spec.id === spec.id)) throw new UsageError(`${file}: pipeline id '${spec.id}' is already used by another file`);
    const url = spec.source.url;
    specs.push({ spec: { ...spec, source: { ...spec.source, url: isUrl(url) || url === '-' ? url : resolve(url) }, outputs: spec.outputs.map((o) => ({ ...o, output: isUrl(o.output) ? o.output : resolve(o.output) })) }, file: resolve(file) });
  }
  const probe = await connectOnce(args.redis);
  probe.disconnect();
  const connection = lastingConnection(args.redis, log, 'serve');
  const queue = new Queue(QUEUE_NAME, { connection });
  const registered = await registerLivePipelines(queue, specs);
  const ids = specs.map((x) => x.spec.id);
  const server = createClusterApiServer({ view: () => clusterView(queue, ids), ...(token ? { token } : {}), startedAt: Date.now() });
  const addr = await listen(server, requested);
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  for (const r of registered) log.info(`pipeline ${r.id}: ${r.queued ? 'queued for a worker' : `already on the queue (${r.state}), left as it is`}`);
  log.info(`serving the cluster on ${args.redis}: ${ids.length} live pipeline${ids.length === 1 ? '' : 's'} run on the workers; API on http://${host}:${addr.port}${token ? ' (bearer token required)' : ''}`);
  const signals = new StopSignals((sig) => log.info(`${sig}: closing the API; the pipelines keep running on the workers`));
  await new Promise<void>((done) => signals.signal.addEventListener('abort', () => done(), { once: true }));
  server.close();
  server.closeAllConnections();
  signals.dispose();
  await queue.close();
  await endConnection(connection);
}

export const serveCommand: CommandModule = {
  command: 'serve [pipelines..]',
  describe: 'run several pipelines with restarts and an HTTP API (health, status, start/stop, Prometheus metrics)',
  builder: (y: Argv) =>
    logOptions(y)
      .positional('pipelines', { type: 'string', array: true, default: [], describe: 'pipeline files (YAML or JSON); default: every file in ./pipelines' })
      .option('listen', { type: 'string', default: DEFAULTS.listen, describe: 'HOST:PORT of the HTTP API; other than loopback needs --token' })
      .option('token', { type: 'string', describe: `bearer token the API requires (also ${DEFAULTS.tokenEnv})` })
      .option('redis', { type: 'string', describe: 'run the pipelines on the workers of this Redis queue (redis://HOST:PORT): each held by one worker, taken over by another when it dies' })
      .example('$0 serve pipelines/camera-to-hls.yaml pipelines/srt-broadcast.yaml', 'two pipelines, API on 127.0.0.1:8080')
      .example('STREAM_SR_TOKEN=secret $0 serve --listen 0.0.0.0:8080', 'every pipeline in ./pipelines, API reachable from the network'),
  handler: async (args) => {
    try {
      await serve(args as unknown as Parameters<typeof serve>[0]);
      process.exitCode = 0;
    } catch (err) {
      if (err instanceof RedisUnreachable) {
        process.stderr.write(`stream-sr: ${err.message}\n`);
        process.exitCode = 1;
        return;
      }
      process.exitCode = reportError(err, Boolean(args.verbose));
    }
  },
};

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

async function serve(args: { pipelines: string[]; listen: string; token?: string; verbose: boolean; quiet: boolean }): Promise<void> {
  const log = loggerFromArgs(args);
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

export const serveCommand: CommandModule = {
  command: 'serve [pipelines..]',
  describe: 'run several pipelines with restarts and an HTTP API (health, status, start/stop, Prometheus metrics)',
  builder: (y: Argv) =>
    logOptions(y)
      .positional('pipelines', { type: 'string', array: true, default: [], describe: 'pipeline files (YAML or JSON); default: every file in ./pipelines' })
      .option('listen', { type: 'string', default: DEFAULTS.listen, describe: 'HOST:PORT of the HTTP API; other than loopback needs --token' })
      .option('token', { type: 'string', describe: `bearer token the API requires (also ${DEFAULTS.tokenEnv})` })
      .example('$0 serve pipelines/camera-to-hls.yaml pipelines/srt-broadcast.yaml', 'two pipelines, API on 127.0.0.1:8080')
      .example('STREAM_SR_TOKEN=secret $0 serve --listen 0.0.0.0:8080', 'every pipeline in ./pipelines, API reachable from the network'),
  handler: async (args) => {
    try {
      await serve(args as unknown as Parameters<typeof serve>[0]);
      process.exitCode = 0;
    } catch (err) {
      process.exitCode = reportError(err, Boolean(args.verbose));
    }
  },
};

import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { UsageError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { CHUNK, JOIN, LIVE, type ChunkJobData, type ChunkResult, type JoinJobData, type JoinResult, type LiveJobData, type LiveProgress } from './job-data.js';
import { runLiveJob } from './live-job.js';
import { ChunkStopped, chunkMessage, runChunk } from './chunk-job.js';
import { runJoin } from './join-job.js';
import { QUEUE_NAME, endConnection, lastingConnection } from './connection.js';
import { describeSpan } from './plan.js';

export interface WorkerOptions {
  readonly redis: string;
  readonly concurrency: number;
  readonly name?: string;
  /** How long a job's lock lasts without renewal: a worker that dies loses its jobs after this. */
  readonly lockSeconds: number;
  readonly log: Logger;
}

/**
 * Takes chunk and join jobs until stopped. The first SIGTERM or SIGINT drains: no new jobs, the
 * ones held are finished, exit 0. A second one hands back what is held: the pipelines stop and
 * their jobs go back to the queue (not counted as failures) for another worker.
 */
export async function runWorker(opts: WorkerOptions): Promise<number> {
  const { log } = opts;
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const who = `worker ${name}`;
  const connection = lastingConnection(opts.redis, log, who);
  const drain = new AbortController();
  const handBack = new AbortController();
  // live pipelines never finish by themselves: draining hands them to another worker at once
  const liveStop = new AbortController();

  let held = 0;
  let lastTaken = 0;
  const processor = async (job: Job, token?: string): Promise<ChunkResult | JoinResult> => {
    held++;
    lastTaken = Date.now();
    try {
      return await handle(job, token);
    } finally {
      held--;
    }
  };

  /** One job, by kind: a chunk, a join, or a live pipeline. */
  const handle = async (job: Job, token?: string): Promise<ChunkResult | JoinResult> => {
    if (job.name === CHUNK) {
      const data = job.data as ChunkJobData;
      const label = `job ${data.job} chunk ${data.plan.index + 1}/${data.count} (${describeSpan(data.plan, data.timeBase)})`;
      log.info(`${who}: ${label} started${job.attemptsMade ? `, attempt ${job.attemptsMade + 1}` : ''}`);
      const started = Date.now();
      let lastReport = 0;
      try {
        const r = await runChunk(data, {
          log: quietPipelineLog(log),
          signal: handBack.signal,
          hardSignal: handBack.signal,
          token: token ?? String(Date.now()),
          onProgress: (written) => {
            const now = Date.now();
            if (now - lastReport < 500 && written < data.plan.frames) return;
            lastReport = now;
            void job.updateProgress(Math.round((100 * written) / data.plan.frames)).catch(() => undefined);
          },
        });
        await job.updateProgress(100).catch(() => undefined);
        // the weights each worker's CPU chose (--precision auto), so a job's chunks can be told apart
        log.info(`${who}: ${label} ${r.reused ? 'was complete already (kept)' : `done in ${((Date.now() - started) / 1000).toFixed(1)} s${r.model ? ` by ${r.model}` : ''}`}`);
        return { index: data.plan.index, file: data.file, frames: r.frames, worker: name, reused: r.reused };
      } catch (err) {
        if (err instanceof ChunkStopped || handBack.signal.aborted) {
          log.info(`${who}: ${label} handed back`);
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
        const message = chunkMessage(data, err);
        log.warn(`${who}: ${message}`);
        // the same settings fail the same way on every machine: no retry
        if (err instanceof UsageError) throw new UnrecoverableError(message);
        throw new Error(message);
      }
    }
    if (job.name === JOIN) {
      const data = job.data as JoinJobData;
      log.info(`${who}: job ${data.job}: joining ${data.chunks.length} chunks into ${data.output}`);
      try {
        const r = await runJoin(data, token ?? String(Date.now()));
        for (const w of r.warnings) log.warn(`${who}: job ${data.job}: ${w}`);
        log.info(`${who}: job ${data.job}: ${r.frames} frames written to ${data.output}`);
        return { output: data.output, frames: r.frames, chunks: data.chunks.length, worker: name };
      } catch (err) {
        throw new Error(`job ${data.job}: joining failed: ${errorMessage(err)}`);
      }
    }
    if (job.name === LIVE) {
      const data = job.data as LiveJobData;
      log.info(`${who}: live pipeline ${data.spec.id} (${data.file}) started here${job.progress && typeof job.progress === 'object' ? `, taken over from ${(job.progress as unknown as LiveProgress).worker}` : ''}`);
      const outcome = await runLiveJob(job, name, log, liveStop.signal);
      if (outcome.kind === 'handed-back') {
        log.info(`${who}: live pipeline ${data.spec.id} handed back to the queue`);
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (outcome.kind === 'failed') throw new Error(`live pipeline ${data.spec.id}: ${outcome.message}`);
      log.info(`${who}: live pipeline ${data.spec.id} ended (${outcome.framesOut} frames)`);
      return { output: data.spec.outputs.map((o) => o.output).join(', '), frames: outcome.framesOut, chunks: 0, worker: name };
    }
    throw new UnrecoverableError(`unknown job kind '${job.name}'`);
  };

  const newWorker = (): Worker => {
    const w = new Worker(QUEUE_NAME, processor, {
      connection,
      concurrency: opts.concurrency,
      name,
      lockDuration: opts.lockSeconds * 1000,
      stalledInterval: Math.max(1000, (opts.lockSeconds * 1000) / 2),
      // a live pipeline whose worker dies is taken over each time; a chunk that kills its worker
      // natively every time fails after this many
      maxStalledCount: 5,
      autorun: false,
    });
    w.on('error', (err) => log.verbose(`${who}: ${errorMessage(err)}`));
    w.on('stalled', (jobId) => log.warn(`${who}: job ${jobId} lost its worker (lock expired); it goes back to the queue`));
    return w;
  };
  let worker = newWorker();
  let running = worker.run();

  // After a Redis outage BullMQ's blocking connection can stay parked for good: the worker looks
  // alive but takes no job (taskforcesh/bullmq#2964, #4585). So after each outage, while this worker
  // holds nothing and jobs are waiting for two checks in a row, its consumer is replaced.
  const queue = new Queue(QUEUE_NAME, { connection });
  let lost = false;
  /** When Redis came back after the last outage, until a job taken since proves the consumer alive. */
  let backAt: number | undefined;
  let idleWithWork = 0;
  connection.on('close', () => (lost = true));
  connection.on('ready', () => {
    if (lost) backAt = Date.now();
    lost = false;
  });
  const watchdog = setInterval(() => {
    if (backAt === undefined || drain.signal.aborted || connection.status !== 'ready') return;
    if (lastTaken >= backAt) {
      backAt = undefined;
      return;
    }
    void (async () => {
      const waiting = await queue.getJobCountByTypes('wait', 'prioritized').catch(() => 0);
      if (held > 0 || waiting === 0) {
        idleWithWork = 0;
        return;
      }
      if (++idleWithWork < 2) return;
      idleWithWork = 0;
      backAt = undefined;
      log.warn(`${who}: ${waiting} job(s) waiting but none taken since Redis came back; restarting the queue consumer`);
      const stuck = worker;
      const stuckRun = running;
      worker = newWorker();
      running = worker.run();
      await stuck.close(true).catch(() => undefined);
      await stuckRun.catch(() => undefined);
    })();
  }, 2000);
  watchdog.unref();

  let stops = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    stops++;
    if (stops === 1) {
      log.info(`${who}: ${sig}: finishing the jobs held, taking no new ones, handing live pipelines back (again to hand everything back)`);
      liveStop.abort();
      drain.abort();
    } else {
      log.info(`${who}: ${sig} again: handing the jobs held back to the queue`);
      handBack.abort();
      liveStop.abort();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  log.info(`${who}: taking jobs from ${opts.redis} (queue ${QUEUE_NAME}, concurrency ${opts.concurrency}, lock ${opts.lockSeconds} s)`);
  await new Promise<void>((resolve) => drain.signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(watchdog);
  await worker.close();
  await running.catch(() => undefined);
  await queue.close().catch(() => undefined);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await endConnection(connection);
  log.info(`${who}: stopped`);
  return 0;
}

/** A chunk's own pipeline lines (start line, summary) are noise in a worker's log; warnings stay. */
function quietPipelineLog(log: Logger): Logger {
  return { error: log.error, warn: log.warn, info: log.verbose, verbose: log.verbose };
}

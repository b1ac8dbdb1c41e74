import type { Argv, ArgumentsCamelCase, CommandModule } from 'yargs';
import { Queue } from 'bullmq';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { encoderOptions, encoderSettingsFrom, loggerFromArgs, logOptions } from './common-options.js';
import { modelOptions, modelSpecFrom, modelValuesFromArgs } from '../pipeline/model-options.js';
import { reportError } from './errors.js';
import { parseInject } from './parse.js';
import { QUEUE_NAME, RedisUnreachable, checkRedisUrl, connectOnce, endConnection, lastingConnection } from '../queue/connection.js';
import { runWorker } from '../queue/worker.js';
import { checkEncoderSettings, jobStatus, listJobs, submitJob, type JobStatus } from '../queue/submit.js';
import { resolveContainer } from '../sinks/av-sink.js';
import { findModel } from '../models/registry.js';
import type { Logger } from '../core/log.js';

/** Frames run before each chunk of a model with history, so its first written frame has one (README: 83.7 dB against a single run with 8). */
const WARMUP_FRAMES = 8;

function redisOption<T>(y: Argv<T>) {
  return y.option('redis', { type: 'string', demandOption: true, describe: 'the queue\'s Redis, redis://HOST:PORT (every worker and submitter names the same one)' });
}

/** Redis not answering is a runtime failure (exit 1), said in one line. */
function report(err: unknown, verbose: boolean): number {
  if (err instanceof RedisUnreachable) {
    process.stderr.write(`stream-sr: ${err.message}\n`);
    return 1;
  }
  return reportError(err, verbose);
}

// ---------------------------------------------------------------- worker

function workerBuilder(y: Argv) {
  return redisOption(logOptions(y))
    .option('concurrency', { type: 'number', default: 1, describe: 'jobs run at once by this worker' })
    .option('name', { type: 'string', describe: 'worker name in logs and job listings (default: host-pid)' })
    .option('lock-seconds', { type: 'number', default: 10, describe: 'a job whose worker stops renewing its lock this long (killed, machine lost) goes to another worker, checked every half of it: a live pipeline moves within 1.5x this plus its start' })
    .example('$0 worker --redis redis://queue:6379 --concurrency 2', 'take chunk jobs on this machine');
}
type WorkerArgs = ArgumentsCamelCase<ReturnType<typeof workerBuilder> extends Argv<infer T> ? T : never>;

async function workerHandler(args: WorkerArgs): Promise<void> {
  const log = loggerFromArgs(args);
  try {
    checkRedisUrl(args.redis);
    if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new UsageError('--concurrency must be a whole number of at least 1');
    if (!(args.lockSeconds >= 1)) throw new UsageError('--lock-seconds must be at least 1');
    process.exitCode = await runWorker({ redis: args.redis, concurrency: args.concurrency, ...(args.name ? { name: args.name } : {}), lockSeconds: args.lockSeconds, log });
  } catch (err) {
    process.exitCode = report(err, args.verbose);
  }
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'take upscaling jobs from a Redis queue (see submit)',
  builder: workerBuilder as unknown as CommandModule<object, WorkerArgs>['builder'],
  handler: workerHandler,
};

// ---------------------------------------------------------------- submit

function submitBuilder(y: Argv) {
  return redisOption(encoderOptions(logOptions(modelOptions(y))))
    .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'input file or URL that every worker reaches (a shared volume)' })
    .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output file on a volume every worker reaches; written whole, under a temporary name, then renamed' })
    .option('chunk-seconds', { type: 'number', default: 10, describe: 'chunks of at least this long, cut at keyframes' })
    .option('warmup-frames', { type: 'number', describe: `frames before each chunk run through the model (not written) to give it its history (default ${WARMUP_FRAMES} for models with history, 0 for others)` })
    .option('attempts', { type: 'number', default: 3, describe: 'tries per chunk before the job fails' })
    .option('backoff', { type: 'number', default: 2, describe: 'seconds before the first retry of a chunk, doubling after' })
    .option('max-in-flight', { type: 'number', default: DEFAULTS.maxInFlight, describe: 'frames between decoder and encoder at most, per chunk' })
    .option('wait', { type: 'boolean', default: false, describe: 'show progress until the job ends; exit 0 when done, 1 when it failed' })
    .option('overwrite', { alias: 'y', type: 'boolean', default: false, describe: 'overwrite the output file' })
    .option('inject', { type: 'string', hidden: true, describe: 'fault injection for tests: errorAfter=N,modelDelayMs=N,chunk=N' })
    .example('$0 submit -i /shared/in.mp4 -o /shared/out.mp4 --redis redis://queue:6379 --wait', 'upscale on every worker of the queue');
}
type SubmitArgs = ArgumentsCamelCase<ReturnType<typeof submitBuilder> extends Argv<infer T> ? T : never>;

function checkSubmit(args: SubmitArgs): string {
  checkRedisUrl(args.redis);
  if (args.input === '-') throw new UsageError("input '-': a queued job needs a file or URL every worker can read");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(args.input)) {
    if (!existsSync(args.input)) throw new UsageError(`input '${args.input}': no such file or directory`);
    const st = statSync(args.input);
    if (st.isDirectory()) throw new UsageError(`input '${args.input}': a folder; a queued job takes a video file`);
    if (st.size === 0) throw new UsageError(`input '${args.input}': the file is empty`);
  }
  if (args.output === '-') throw new UsageError("output '-': a queued job writes a file every worker can reach");
  const container = resolveContainer(args.output, undefined);
  if (container === 'yuv4mpegpipe' || container === 'hls') throw new UsageError(`output '${args.output}': ${container} cannot be joined from chunks; use mp4, mkv, mov, ts or nut`);
  if (existsSync(args.output)) {
    if (statSync(args.output).isDirectory()) throw new UsageError(`output '${args.output}': is a directory`);
    if (!args.overwrite) throw new UsageError(`output '${args.output}' already exists; use -y to overwrite it`);
  }
  if (!existsSync(dirname(args.output))) throw new UsageError(`output '${args.output}': folder ${dirname(args.output)} does not exist`);
  if (!(args.chunkSeconds > 0)) throw new UsageError('--chunk-seconds must be more than 0');
  if (args.warmupFrames !== undefined && (!Number.isInteger(args.warmupFrames) || args.warmupFrames < 0)) throw new UsageError('--warmup-frames must be a whole number, 0 or more');
  if (!Number.isInteger(args.attempts) || args.attempts < 1) throw new UsageError('--attempts must be a whole number of at least 1');
  if (!(args.backoff >= 0)) throw new UsageError('--backoff must be 0 or more seconds');
  if (!Number.isInteger(args.maxInFlight) || args.maxInFlight < 1) throw new UsageError('--max-in-flight must be a whole number of at least 1');
  return container;
}

async function submitHandler(args: SubmitArgs): Promise<void> {
  const log = loggerFromArgs(args);
  try {
    const container = checkSubmit(args);
    const model = modelSpecFrom(modelValuesFromArgs(args));
    const manifest = await findModel(model.id, model.modelDirs ?? []);
    // a model without history computes each frame alone: frames before a chunk would be decoded and upscaled for nothing
    const warmupFrames = args.warmupFrames ?? (manifest.history ? WARMUP_FRAMES : 0);
    // every chunk would fail the same way: a user error now, before anything is queued
    checkEncoderSettings(encoderSettingsFrom(args), container, args.output);
    const connection = await connectOnce(args.redis);
    try {
      const s = await submitJob(connection, {
        input: args.input,
        output: args.output,
        container,
        model,
        encoder: encoderSettingsFrom(args),
        ...(args.pixFmt ? { pixelFormat: args.pixFmt } : {}),
        maxInFlight: args.maxInFlight,
        chunkSeconds: args.chunkSeconds,
        warmupFrames,
        attempts: args.attempts,
        backoffMs: args.backoff * 1000,
        ...(args.inject ? { inject: parseInject(args.inject) } : {}),
      });
      process.stdout.write(`${s.id}\n`);
      // chunks are cut at keyframes only: say so where that gave fewer than --chunk-seconds asked for
      const fewer = s.chunks < Math.floor(s.seconds / args.chunkSeconds) ? ` (cut at keyframes only, and the input has ${s.keyframes} keyframe${s.keyframes === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s)` : '';
      log.info(`job ${s.id}: ${s.frames} frames (${s.seconds.toFixed(1)} s) in ${s.chunks} chunk${s.chunks === 1 ? '' : 's'}${fewer}, queued on ${args.redis}`);
    if (args.wait) process.exitCode = await waitFor(args.redis, s.id, log, args.quiet);
    } finally {
      connection.disconnect();
    }
  } catch (err) {
    process.exitCode = report(err, args.verbose);
  }
}

/** Polls the job until it ends, with a progress line on stderr; 0 when done, 1 when it failed. */
async function waitFor(redis: string, id: string, log: Logger, quiet: boolean): Promise<number> {
  const connection = lastingConnection(redis, log, 'submit');
  const queue = new Queue(QUEUE_NAME, { connection });
  const tty = process.stderr.isTTY;
  let lastLine = '';
  try {
    for (;;) {
      const s = await jobStatus(queue, id);
      if (!s) throw new Error(`job ${id} is no longer on the queue`);
      const line = `job ${id}: ${bar(s.progress)} ${String(s.progress).padStart(3)}%  ${s.chunksDone}/${s.chunks} chunks  ${s.state}`;
      if (!quiet && line !== lastLine) {
        process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
        lastLine = line;
      }
      if (s.state === 'completed') {
        if (tty && !quiet) process.stderr.write('\n');
        log.info(`job ${id}: done, ${s.output}`);
        return 0;
      }
      if (s.state === 'failed') {
        if (tty && !quiet) process.stderr.write('\n');
        process.stderr.write(`stream-sr: job ${id} failed: ${s.error ?? 'unknown reason'}\n`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await queue.close();
    await endConnection(connection);
  }
}

function bar(percent: number): string {
  const n = Math.round(percent / 5);
  return `[${'#'.repeat(n)}${'.'.repeat(20 - n)}]`;
}

export const submitCommand: CommandModule<object, SubmitArgs> = {
  command: 'submit',
  describe: 'split a file into chunks on a Redis queue for the workers, joined into one output',
  builder: submitBuilder as unknown as CommandModule<object, SubmitArgs>['builder'],
  handler: submitHandler,
};

// ---------------------------------------------------------------- jobs

function jobsBuilder(y: Argv) {
  return redisOption(logOptions(y)).option('json', { type: 'boolean', default: false, describe: 'one JSON object per job on stdout' });
}
type JobsArgs = ArgumentsCamelCase<ReturnType<typeof jobsBuilder> extends Argv<infer T> ? T : never>;

async function jobsHandler(args: JobsArgs): Promise<void> {
  try {
    checkRedisUrl(args.redis);
    const connection = await connectOnce(args.redis);
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      const jobs = await listJobs(queue);
      if (args.json) for (const j of jobs) process.stdout.write(`${JSON.stringify(j)}\n`);
      else process.stdout.write(table(jobs));
    } finally {
      await queue.close();
      connection.disconnect();
    }
  } catch (err) {
    process.exitCode = report(err, args.verbose);
  }
}

function table(jobs: readonly JobStatus[]): string {
  if (!jobs.length) return 'no jobs\n';
  const rows = [['JOB', 'STATE', 'PROGRESS', 'CHUNKS', 'OUTPUT', 'ERROR'], ...jobs.map((j) => [j.id, j.state, `${j.progress}%`, `${j.chunksDone}/${j.chunks}`, j.output, j.error ?? ''])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const jobsCommand: CommandModule<object, JobsArgs> = {
  command: 'jobs',
  describe: 'list the jobs on a Redis queue, with state and progress',
  builder: jobsBuilder as unknown as CommandModule<object, JobsArgs>['builder'],
  handler: jobsHandler,
};

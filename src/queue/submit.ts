import { FlowProducer, Queue, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Rational } from '../core/rational.js';
import type { EncoderSettings } from '../av/output.js';
import type { IdentityOptions } from '../operators/identity.js';
import type { ModelSpec } from '../pipeline/spec.js';
import { scanVideo } from '../av/scan.js';
export { checkEncoderSettings } from '../av/output.js';
import { UsageError } from '../core/errors.js';
import { CHUNK, JOIN, chunkFileName, chunkJobId, type ChunkJobData, type JoinJobData } from './job-data.js';
import { planChunks } from './plan.js';
import { QUEUE_NAME } from './connection.js';
import type { Redis } from 'ioredis';

export interface SubmitRequest {
  readonly input: string;
  readonly output: string;
  readonly container: string;
  readonly model: ModelSpec;
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  readonly maxInFlight: number;
  readonly chunkSeconds: number;
  readonly warmupFrames: number;
  readonly attempts: number;
  /** First retry after this long, then twice as long each time. */
  readonly backoffMs: number;
  /** Fault injection (tests), for every chunk or only chunk `chunk` (0-based). */
  readonly inject?: IdentityOptions & { readonly modelDelayMs?: number; readonly chunk?: number };
}

/** Finished jobs stay listed (`stream-sr jobs`) for a week, then Redis lets them go. */
const KEEP = { age: 7 * 24 * 3600 };

export interface Submitted {
  readonly id: string;
  readonly chunks: number;
  /** Keyframes in the input: chunks are cut only there. */
  readonly keyframes: number;
  readonly frames: number;
  readonly seconds: number;
}

/**
 * Plans the chunks (keyframe times from the packets, nothing decoded) and puts one flow on the
 * queue: a join job waiting on one child job per chunk. Every path is made absolute: the workers
 * run elsewhere and must reach the same files (a shared volume).
 */
export async function submitJob(connection: Redis, req: SubmitRequest): Promise<Submitted> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.input);
  const input = isUrl ? req.input : resolve(req.input);
  const output = resolve(req.output);
  const scan = await scanVideo(input, req.input);
  if (!scan.pts.length) throw new UsageError(`input '${req.input}': no video frames`);
  const plans = planChunks(scan, req.chunkSeconds, req.warmupFrames);
  const id = `j${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const chunkDir = join(dirname(output), `.${basename(output)}.${id}.chunks`);
  mkdirSync(chunkDir, { recursive: true });
  const { chunk: poisoned, ...inject } = req.inject ?? {};
  const chunks = plans.map((plan) => {
    const data: ChunkJobData = {
      job: id,
      input,
      count: plans.length,
      plan,
      timeBase: scan.timeBase,
      file: join(chunkDir, chunkFileName(plan.index, req.encoder.codec)),
      model: req.model,
      encoder: req.encoder,
      ...(req.pixelFormat ? { pixelFormat: req.pixelFormat } : {}),
      maxInFlight: req.maxInFlight,
      ...(req.inject && (poisoned === undefined || poisoned === plan.index) ? { inject } : {}),
    };
    return data;
  });
  const joinData: JoinJobData = {
    job: id,
    input,
    output,
    container: req.container,
    timeBase: scan.timeBase,
    chunkDir,
    chunks: chunks.map((c) => ({ file: c.file, frames: c.plan.frames, writeFrom: c.plan.writeFrom })),
    frames: scan.pts.length,
  };
  const flow = new FlowProducer({ connection });
  try {
    await flow.add({
      name: JOIN,
      queueName: QUEUE_NAME,
      data: joinData,
      opts: { jobId: id, attempts: req.attempts, backoff: { type: 'exponential', delay: req.backoffMs }, removeOnComplete: KEEP, removeOnFail: KEEP },
      children: chunks.map((data) => ({
        name: CHUNK,
        queueName: QUEUE_NAME,
        data,
        opts: {
          jobId: chunkJobId(id, data.plan.index),
          attempts: req.attempts,
          backoff: { type: 'exponential', delay: req.backoffMs },
          failParentOnFailure: true,
          removeOnComplete: KEEP,
          removeOnFail: KEEP,
        },
      })),
    });
  } finally {
    await flow.close();
  }
  const secs = (t: number, tb: Rational): number => (t * tb.num) / tb.den;
  return { id, chunks: plans.length, keyframes: scan.keyframes.length, frames: scan.pts.length, seconds: secs(scan.pts[scan.pts.length - 1]! - scan.pts[0]!, scan.timeBase) };
}

export interface JobStatus {
  readonly id: string;
  readonly state: string;
  /** 0..100: chunks done (partly done ones by their frames), the join the last step. */
  readonly progress: number;
  readonly chunksDone: number;
  readonly chunks: number;
  readonly input: string;
  readonly output: string;
  /** Why it failed: the failing chunk's own message where a chunk failed. */
  readonly error?: string;
  /** Per chunk: state, attempts, worker. */
  readonly chunkStates: ReadonlyArray<{ readonly state: string; readonly attempts: number; readonly worker?: string; readonly error?: string }>;
}

/** A submitted job's state, with its chunks' progress and the chunk's error when one failed. */
export async function jobStatus(queue: Queue, id: string): Promise<JobStatus | undefined> {
  const parent = await queue.getJob(id);
  if (!parent || parent.name !== JOIN) return undefined;
  const data = parent.data as JoinJobData;
  const state = await parent.getState();
  const chunkStates = [];
  let done = 0;
  let partial = 0;
  let chunkError: string | undefined;
  for (let i = 0; i < data.chunks.length; i++) {
    const child: Job | undefined = await queue.getJob(chunkJobId(id, i));
    const s = child ? await child.getState() : 'missing';
    const progress = typeof child?.progress === 'number' ? child.progress : 0;
    if (s === 'completed') done++;
    else if (s === 'active') partial += progress / 100;
    if (s === 'failed' && child?.failedReason && !chunkError) chunkError = child.failedReason;
    const worker = (child?.returnvalue as { worker?: string } | null | undefined)?.worker;
    chunkStates.push({ state: s, attempts: child?.attemptsMade ?? 0, ...(worker ? { worker } : {}), ...(s === 'failed' && child?.failedReason ? { error: child.failedReason } : {}) });
  }
  const chunkShare = data.chunks.length ? (done + partial) / data.chunks.length : 1;
  const progress = state === 'completed' ? 100 : Math.min(99, Math.floor(95 * chunkShare));
  const error = state === 'failed' ? chunkError ?? parent.failedReason : undefined;
  return { id, state, progress, chunksDone: done, chunks: data.chunks.length, input: data.input, output: data.output, ...(error ? { error } : {}), chunkStates };
}

/** Every submitted job (newest first). */
export async function listJobs(queue: Queue): Promise<JobStatus[]> {
  const jobs = await queue.getJobs(['waiting-children', 'waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'], 0, -1);
  const parents = jobs.filter((j) => j.name === JOIN).sort((a, b) => b.timestamp - a.timestamp);
  const out: JobStatus[] = [];
  for (const p of parents) {
    const s = await jobStatus(queue, p.id!);
    if (s) out.push(s);
  }
  return out;
}

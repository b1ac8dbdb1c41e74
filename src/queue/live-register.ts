import type { Queue } from 'bullmq';
import type { PipelineSpec } from '../pipeline/spec.js';
import { LIVE, liveJobId, type LiveJobData, type LiveProgress } from './job-data.js';

/**
 * Puts each pipeline on the queue as a live job (one per pipeline id). A pipeline already queued
 * or running somewhere is left as it is (a restarted `serve` does not start it twice); one that
 * ended (completed, failed) is queued again.
 */
export async function registerLivePipelines(queue: Queue, pipelines: ReadonlyArray<{ spec: PipelineSpec; file: string }>): Promise<Array<{ id: string; queued: boolean; state: string }>> {
  const out = [];
  for (const { spec, file } of pipelines) {
    const jobId = liveJobId(spec.id);
    const existing = await queue.getJob(jobId);
    const state = existing ? await existing.getState() : 'missing';
    if (existing && (state === 'completed' || state === 'failed')) await existing.remove();
    if (!existing || state === 'completed' || state === 'failed' || state === 'unknown') {
      await queue.add(LIVE, { spec, file } satisfies LiveJobData, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
      out.push({ id: spec.id, queued: true, state: 'waiting' });
    } else {
      out.push({ id: spec.id, queued: false, state });
    }
  }
  return out;
}

export interface LivePipelineView {
  readonly id: string;
  /** The job's state: waiting (for a worker), active (running on `worker`), failed ... */
  readonly state: string;
  readonly pipelineState: string | null;
  readonly worker: string | null;
  readonly since: string | null;
  readonly takeovers: number;
  readonly framesOut: number;
  readonly error: string | null;
}

export interface ClusterView {
  readonly workers: ReadonlyArray<{ readonly name: string; readonly address: string }>;
  readonly jobs: Record<string, number>;
  readonly queueDepth: number;
  readonly pipelines: readonly LivePipelineView[];
}

/** The cluster as the queue sees it: connected workers, jobs by state, where each live pipeline runs. */
export async function clusterView(queue: Queue, ids: readonly string[]): Promise<ClusterView> {
  const workers = (await queue.getWorkers()).map((w) => ({ name: String(w.name ?? ''), address: String(w.addr ?? '') }));
  const jobs = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed');
  const pipelines: LivePipelineView[] = [];
  for (const id of ids) {
    const job = await queue.getJob(liveJobId(id));
    const state = job ? await job.getState() : 'missing';
    const p = job && typeof job.progress === 'object' ? (job.progress as unknown as LiveProgress) : undefined;
    const running = state === 'active';
    pipelines.push({
      id,
      state,
      pipelineState: running ? p?.state ?? 'starting' : null,
      worker: running ? p?.worker ?? null : null,
      since: running && p ? new Date(p.since).toISOString() : null,
      takeovers: p?.takeovers ?? 0,
      framesOut: p?.framesOut ?? 0,
      error: state === 'failed' ? job?.failedReason ?? null : null,
    });
  }
  return { workers, jobs, queueDepth: (jobs.waiting ?? 0) + (jobs.prioritized ?? 0) + (jobs.delayed ?? 0), pipelines };
}

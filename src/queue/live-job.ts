import type { Job } from 'bullmq';
import type { Logger } from '../core/log.js';
import { SupervisedPipeline, UNREPORTED_MARGIN_US, type PipelineState } from '../pipeline/supervisor.js';
import type { LiveJobData, LiveProgress } from './job-data.js';

const ENDED: readonly PipelineState[] = ['completed', 'failed', 'stopped'];

export type LiveOutcome = { readonly kind: 'completed'; readonly framesOut: number } | { readonly kind: 'failed'; readonly message: string } | { readonly kind: 'handed-back' };

/**
 * Runs a live pipeline for as long as the job is held: in its own process (SupervisedPipeline, with
 * its restarts), reporting every second where its outputs' timeline has reached. A pipeline taken
 * over from a worker that died continues that timeline (plus the margin a run that ended without
 * its last report may have written), so HLS goes on with rising sequence numbers and an
 * #EXT-X-DISCONTINUITY at the seam. `handBack` drains the pipeline and gives the job back.
 */
export async function runLiveJob(job: Job, worker: string, log: Logger, handBack: AbortSignal): Promise<LiveOutcome> {
  const data = job.data as LiveJobData;
  const before = typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as LiveProgress) : undefined;
  const resumeUs = before && before.outputEndUs > 0 ? before.outputEndUs + UNREPORTED_MARGIN_US : 0;
  const takeovers = (before?.takeovers ?? -1) + 1;
  const pipeline = new SupervisedPipeline(data.spec, log, resumeUs);
  const since = Date.now();
  const report = (): Promise<void> =>
    job
      .updateProgress({ worker, state: pipeline.state, outputEndUs: pipeline.outputEnd, since, takeovers, ...(pipeline.pid ? { pid: pipeline.pid } : {}), framesOut: pipeline.status().metrics.framesOut } satisfies LiveProgress)
      .catch(() => undefined);
  const ended = new Promise<PipelineState>((resolve) => {
    pipeline.onState((state) => {
      if (ENDED.includes(state)) resolve(state);
    });
  });
  const onHandBack = (): void => void pipeline.stop();
  handBack.addEventListener('abort', onHandBack, { once: true });
  const ticker = setInterval(() => void report(), 1000);
  try {
    // a takeover continues the pipeline's own outputs: nothing of another job's is replaced
    pipeline.start(resumeUs > 0);
    await report();
    const state = await ended;
    await report();
    if (handBack.aborted) return { kind: 'handed-back' };
    if (state === 'failed') return { kind: 'failed', message: pipeline.lastError?.message ?? 'failed' };
    return { kind: 'completed', framesOut: pipeline.status().metrics.framesOut };
  } finally {
    clearInterval(ticker);
    handBack.removeEventListener('abort', onHandBack);
  }
}

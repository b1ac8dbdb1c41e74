import type { MetricsSnapshot } from './run-meter.js';
import type { PipelineSpec } from './spec.js';

/** Messages between the service and a pipeline's worker process (Node IPC, JSON). */
export type ToWorker =
  /** replaceOutputs: an automatic restart may replace what the failed run it retries wrote. */
  | { readonly type: 'start'; readonly spec: PipelineSpec; readonly replaceOutputs: boolean } | { readonly type: 'stop' } | { readonly type: 'abort' };

export type FromWorker =
  | { readonly type: 'started'; readonly description: string }
  | { readonly type: 'metrics'; readonly metrics: MetricsSnapshot }
  | { readonly type: 'ended'; readonly state: 'completed' | 'aborted' | 'failed'; readonly error?: string; readonly metrics: MetricsSnapshot };

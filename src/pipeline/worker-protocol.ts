import type { MetricsSnapshot } from './run-meter.js';
import type { PipelineSpec } from './spec.js';

/** Messages between the service and a pipeline's worker process (Node IPC, JSON). */
export type ToWorker =
  /** replaceOutputs: an automatic restart may replace what the failed run it retries wrote. */
  | { readonly type: 'start'; readonly spec: PipelineSpec; readonly replaceOutputs: boolean }
  | { readonly type: 'stop' }
  | { readonly type: 'abort' }
  /** Someone looks at the preview: take before/after pairs for a few seconds more. */
  | { readonly type: 'preview' };

export type FromWorker =
  | { readonly type: 'started'; readonly description: string }
  /** `previewCopies`: frames copied for the preview in this run (0 while nobody watched). */
  | { readonly type: 'metrics'; readonly metrics: MetricsSnapshot; readonly previewCopies?: number }
  /**
   * `error`: why the run failed, reported by the service (the worker does not log it); `lasting`: a
   * failure that a restart cannot fix (an output that cannot be written), so none is tried.
   */
  | { readonly type: 'ended'; readonly state: 'completed' | 'aborted' | 'failed'; readonly error?: string; readonly lasting?: boolean; readonly metrics: MetricsSnapshot; readonly previewCopies?: number }
  /** A before/after pair of the same frame as PNG files (base64), the output's size. */
  | { readonly type: 'preview'; readonly index: number; readonly width: number; readonly height: number; readonly before: string; readonly after: string };

import type { PipelineState, PipelineStatus } from '../pipeline/supervisor.js';

const STATES: readonly PipelineState[] = ['idle', 'starting', 'running', 'reconnecting', 'restarting', 'stopping', 'stopped', 'completed', 'failed'];

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : 'NaN';
}

/**
 * The Prometheus text exposition format (version 0.0.4): one family per measure, each pipeline a
 * `pipeline` label; latency as a summary in seconds, the state as a state set.
 */
export function prometheusText(pipelines: readonly PipelineStatus[], uptimeSeconds: number, previewFrameCopies: readonly number[] = []): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, rows: Array<[string, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${labels} ${num(value)}`);
  };
  const each = (value: (p: PipelineStatus) => number): Array<[string, number]> => pipelines.map((p) => [`{pipeline="${label(p.id)}"}`, value(p)]);
  family('stream_sr_up', 'gauge', 'The service is running.', [['', 1]]);
  family('stream_sr_uptime_seconds', 'gauge', 'Seconds since the service started.', [['', uptimeSeconds]]);
  family('stream_sr_pipeline_state', 'gauge', 'The state of each pipeline (1 for the current state).', pipelines.flatMap((p) => STATES.map((s): [string, number] => [`{pipeline="${label(p.id)}",state="${s}"}`, p.state === s ? 1 : 0])));
  family('stream_sr_frames_in_total', 'counter', 'Frames received from the source.', each((p) => p.metrics.framesIn));
  family('stream_sr_frames_out_total', 'counter', 'Frames written to the outputs.', each((p) => p.metrics.framesOut));
  family('stream_sr_frames_dropped_total', 'counter', 'Frames dropped: the model was behind (live-policy drop, or fallback past max-queue), or frames still waiting when the pipeline stopped.', each((p) => p.metrics.framesDropped));
  family('stream_sr_model_frames_total', 'counter', 'Frames upscaled by the model (under the fallback policy: by the primary model).', each((p) => p.metrics.modelFrames));
  family('stream_sr_fallback_frames_total', 'counter', 'Frames upscaled by the fallback model.', each((p) => p.metrics.fallbackFrames));
  family('stream_sr_restarts_total', 'counter', 'Restarts of the pipeline after a failure.', each((p) => p.restarts));
  family('stream_sr_reconnects_total', 'counter', 'Reconnects of the live source.', each((p) => p.metrics.reconnects));
  family('stream_sr_input_fps', 'gauge', 'Frames per second received, over the last seconds.', each((p) => p.metrics.inputFps));
  family('stream_sr_output_fps', 'gauge', 'Frames per second written, over the last seconds.', each((p) => p.metrics.outputFps));
  family('stream_sr_last_error_timestamp_seconds', 'gauge', 'When the pipeline last failed (0: never).', each((p) => (p.lastError ? Date.parse(p.lastError.at) / 1000 : 0)));
  family('stream_sr_preview_frame_copies_total', 'counter', 'Frames copied for the console\'s preview (none while nobody watches it).', pipelines.map((p, i) => [`{pipeline="${label(p.id)}"}`, previewFrameCopies[i] ?? 0]));
  const latency: Array<[string, number]> = [];
  for (const p of pipelines) {
    const id = label(p.id);
    const m = p.metrics;
    if (m.latencyP50Ms !== null) latency.push([`{pipeline="${id}",quantile="0.5"}`, m.latencyP50Ms / 1000]);
    if (m.latencyP95Ms !== null) latency.push([`{pipeline="${id}",quantile="0.95"}`, m.latencyP95Ms / 1000]);
  }
  family('stream_sr_latency_seconds', 'summary', 'From a frame\'s arrival at the source to the end of its write (quantiles over the recent frames).', latency);
  for (const p of pipelines) {
    out.push(`stream_sr_latency_seconds_sum{pipeline="${label(p.id)}"} ${num(p.metrics.latencySumMs / 1000)}`);
    out.push(`stream_sr_latency_seconds_count{pipeline="${label(p.id)}"} ${p.metrics.latencyCount}`);
  }
  return `${out.join('\n')}\n`;
}

import type { Argv } from 'yargs';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { LIVE_POLICIES, type LivePolicy, type LiveSettings, type RtspTransport } from '../sources/live-options.js';
import type { MetricsSnapshot } from '../pipeline/run-meter.js';

/** Options for live inputs and outputs (rtsp://, srt://, rtmp://, udp://, HLS; segmented recording). */
export function liveOptions<T>(y: Argv<T>) {
  const group = 'Live inputs and outputs:';
  return y
    .option('rtsp-transport', { type: 'string', choices: ['tcp', 'udp'], default: DEFAULTS.rtspTransport, group, describe: 'RTSP transport, for reading and for publishing' })
    .option('reconnect', { type: 'boolean', default: DEFAULTS.reconnect, group, describe: 'reopen a lost live input with exponential backoff (--no-reconnect: end the run instead)' })
    .option('reconnect-delay', { type: 'number', default: DEFAULTS.reconnectInitialDelayMs, group, describe: 'first wait before reconnecting (ms); doubles each attempt' })
    .option('reconnect-max-delay', { type: 'number', default: DEFAULTS.reconnectMaxDelayMs, group, describe: 'longest wait between reconnect attempts (ms)' })
    .option('reconnect-attempts', { type: 'number', default: DEFAULTS.reconnectMaxAttempts, group, describe: 'attempts in a row before failing; 0 for no limit' })
    .option('read-timeout', { type: 'number', default: DEFAULTS.liveReadTimeoutMs, group, describe: 'a live input silent this long (ms) is treated as lost' })
    .option('live-policy', { type: 'string', choices: LIVE_POLICIES as string[], default: DEFAULTS.livePolicy, group, describe: 'when the model is slower than a live input: drop frames, fall back to a faster model, or queue (then fail)' })
    .option('fallback-model', { type: 'string', default: DEFAULTS.fallbackModel, group, describe: 'the faster model of --live-policy fallback' })
    .option('latency-budget', { type: 'number', default: DEFAULTS.latencyBudgetMs, group, describe: 'fallback: frames that would take longer than this (ms) from arrival to output go through the fallback model' })
    .option('max-queue', { type: 'number', default: DEFAULTS.maxQueue, group, describe: 'frames a live input may hold for the model (queue: then an error)' })
    .option('segment-time', { type: 'number', group, describe: 'segmented recording: a new file about every N seconds (-o rec-%05d.mp4 or rec-%Y%m%d-%H%M%S.mp4)' })
    .option('hls-time', { type: 'number', default: DEFAULTS.hlsSegmentSeconds, group, describe: 'HLS output (-o dir/index.m3u8): segment length in seconds' })
    .option('hls-list-size', { type: 'number', default: DEFAULTS.hlsListSize, group, describe: 'HLS output: segments kept in the playlist (older ones are deleted)' });
}

interface LiveArgs {
  rtspTransport: string;
  reconnect: boolean;
  reconnectDelay: number;
  reconnectMaxDelay: number;
  reconnectAttempts: number;
  readTimeout: number;
  livePolicy: string;
  maxQueue: number;
}

function whole(value: number, option: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${option} ${value}: must be a whole number of at least ${min}`);
  return value;
}

export function liveSettingsFrom(args: LiveArgs): LiveSettings {
  return {
    policy: args.livePolicy as LivePolicy,
    maxQueue: whole(args.maxQueue, '--max-queue', 1),
    rtspTransport: args.rtspTransport as RtspTransport,
    readTimeoutMs: whole(args.readTimeout, '--read-timeout', 100),
    reconnect: {
      enabled: args.reconnect,
      initialDelayMs: whole(args.reconnectDelay, '--reconnect-delay', 0),
      maxDelayMs: whole(args.reconnectMaxDelay, '--reconnect-max-delay', 0),
      maxAttempts: whole(args.reconnectAttempts, '--reconnect-attempts', 0),
    },
  };
}

/** ", latency p50 38 ms p95 61 ms, 3 dropped, 120 by the fallback model" (live runs; the last under `policy` fallback). */
export function liveSummary(m: MetricsSnapshot, policy: LivePolicy): string {
  const parts: string[] = [];
  if (m.latencyP50Ms !== null) parts.push(`latency p50 ${m.latencyP50Ms.toFixed(0)} ms p95 ${(m.latencyP95Ms ?? 0).toFixed(0)} ms`);
  parts.push(`${m.framesIn} in, ${m.framesDropped} dropped`);
  if (policy === 'fallback') parts.push(`${m.fallbackFrames} of ${m.modelFrames + m.fallbackFrames} by the fallback model`);
  if (m.reconnects) parts.push(`${m.reconnects} reconnect${m.reconnects === 1 ? '' : 's'}`);
  return parts.join(', ');
}

import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError, errorMessage } from '../core/errors.js';
import { DEFAULTS } from '../core/defaults.js';
import { modelSpecFrom, type ModelOptionValues } from './model-options.js';
import type { LivePolicy, RtspTransport } from '../sources/live-options.js';
import { validate } from './schema.js';
import { PIPELINE_SCHEMA } from './pipeline-schema.js';
import type { OutputSpec, PipelineSpec } from './spec.js';

/* The shape a valid file has (checked by the schema before it is read as this). */
interface FileSink {
  url: string;
  format?: string;
  segmentSeconds?: number;
  hls?: { segmentSeconds?: number; listSize?: number };
  rtspTransport?: RtspTransport;
  encoder?: { codec?: string; crf?: number; preset?: string; pixelFormat?: string };
}
interface PipelineFile {
  id?: string;
  source: { url: string; format?: string; frameRate?: number; rtspTransport?: RtspTransport; readTimeoutMs?: number; options?: Record<string, string>; reconnect?: { enabled?: boolean; initialDelayMs?: number; maxDelayMs?: number; maxAttempts?: number } };
  model?: ModelOptionValues;
  policy?: { mode?: LivePolicy; fallbackModel?: string; maxQueue?: number; latencyBudgetMs?: number };
  sinks: FileSink[];
  maxInFlight?: number;
  overwrite?: boolean;
  restart?: { enabled?: boolean; initialDelayMs?: number; maxDelayMs?: number; maxRestarts?: number };
}

/** Parses YAML (.yaml, .yml) or JSON text; a syntax error names the line. */
export function parsePipelineText(text: string, name: string): unknown {
  try {
    return extname(name).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`${name}: not valid ${extname(name).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${errorMessage(err).split('\n')[0]}`);
  }
}

/** Checks a parsed pipeline against the schema and fills in every default. */
export function pipelineFromData(data: unknown, name: string): PipelineSpec {
  const problems = validate(PIPELINE_SCHEMA, data);
  if (problems.length) {
    throw new UsageError(`${name}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
  }
  const file = data as PipelineFile;
  const s = file.source;
  const r = s.reconnect ?? {};
  const p = file.policy ?? {};
  const m = file.model ?? {};
  return {
    id: file.id ?? basename(name, extname(name)).replace(/[^A-Za-z0-9_-]/g, '-'),
    source: { url: s.url, ...(s.format ? { format: s.format } : {}), ...(s.frameRate ? { frameRate: { num: Math.round(s.frameRate * 1000), den: 1000 } } : {}), ...(s.options ? { options: s.options } : {}) },
    live: {
      policy: p.mode ?? DEFAULTS.livePolicy,
      maxQueue: p.maxQueue ?? DEFAULTS.maxQueue,
      rtspTransport: s.rtspTransport ?? DEFAULTS.rtspTransport,
      readTimeoutMs: s.readTimeoutMs ?? DEFAULTS.liveReadTimeoutMs,
      reconnect: {
        enabled: r.enabled ?? DEFAULTS.reconnect,
        initialDelayMs: r.initialDelayMs ?? DEFAULTS.reconnectInitialDelayMs,
        maxDelayMs: r.maxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
        maxAttempts: r.maxAttempts ?? DEFAULTS.reconnectMaxAttempts,
      },
    },
    model: modelSpecFrom(m),
    fallbackModel: p.fallbackModel ?? DEFAULTS.fallbackModel,
    latencyBudgetMs: p.latencyBudgetMs ?? DEFAULTS.latencyBudgetMs,
    outputs: file.sinks.map(outputOf),
    maxInFlight: file.maxInFlight ?? DEFAULTS.maxInFlight,
    ...(file.overwrite ? { overwrite: true } : {}),
    restart: {
      ...(file.restart?.enabled !== undefined ? { enabled: file.restart.enabled } : {}),
      initialDelayMs: file.restart?.initialDelayMs ?? DEFAULTS.restartInitialDelayMs,
      maxDelayMs: file.restart?.maxDelayMs ?? DEFAULTS.restartMaxDelayMs,
      maxAttempts: file.restart?.maxRestarts ?? 0,
    },
  };
}

function outputOf(sink: FileSink): OutputSpec {
  const e = sink.encoder ?? {};
  return {
    output: sink.url,
    ...(sink.format ? { format: sink.format } : {}),
    ...(sink.segmentSeconds !== undefined ? { segmentSeconds: sink.segmentSeconds } : {}),
    ...(sink.hls?.segmentSeconds !== undefined ? { hlsSegmentSeconds: sink.hls.segmentSeconds } : {}),
    ...(sink.hls?.listSize !== undefined ? { hlsListSize: sink.hls.listSize } : {}),
    hlsAppend: true,
    createFolder: true,
    ...(sink.rtspTransport ? { rtspTransport: sink.rtspTransport } : {}),
    encoder: { ...(e.codec ? { codec: e.codec } : {}), crf: e.crf ?? DEFAULTS.crf, preset: e.preset ?? DEFAULTS.preset },
    ...(e.pixelFormat ? { pixelFormat: e.pixelFormat } : {}),
  };
}

/** Reads, parses and validates a pipeline file. */
export async function loadPipelineFile(path: string): Promise<PipelineSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`pipeline '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`);
  }
  return pipelineFromData(parsePipelineText(text, path), path);
}

import type { OperatorFunction } from 'rxjs';
import type { Frame } from '../core/frame.js';
import type { Logger } from '../core/log.js';
import type { RunStats } from '../core/stats.js';
import type { SrModel } from '../inference/sr-model.js';
import { loadModel, modelTilesOwnPlanes, type LoadModelOptions } from '../models/load.js';
import { withModelTiling } from '../models/measure-memory.js';
import { FallbackModel } from '../models/fallback-model.js';
import { delayedModel } from '../models/delayed-model.js';
import { identity } from '../operators/identity.js';
import { createSink } from '../sinks/open-sink.js';
import { TeeSink } from '../sinks/tee-sink.js';
import { WarmupSink } from '../sinks/warmup-sink.js';
import type { Sink } from '../sinks/sink.js';
import { createSource } from '../sources/open-source.js';
import { LiveSource } from '../sources/live-source.js';
import type { Source } from '../sources/source.js';
import type { ModelSpec, PipelineSpec } from './spec.js';

export interface BuiltPipeline {
  readonly source: Source;
  readonly model: SrModel;
  readonly sink: Sink;
  readonly live: boolean;
  readonly before: ReadonlyArray<OperatorFunction<Frame, Frame>>;
}

export interface BuildContext {
  readonly log: Logger;
  readonly stats: RunStats;
  /** Stops a live source that is still trying to connect. */
  readonly signal?: AbortSignal;
}

/** How the model of `spec` is loaded: session, scale, folders, diffusion options. */
export function loadOptionsOf(spec: ModelSpec, log: Logger): LoadModelOptions {
  return {
    scale: spec.scale,
    ...(spec.precision ? { precision: spec.precision } : {}),
    ...(spec.modelDirs ? { modelDirs: spec.modelDirs } : {}),
    session: {
      device: { device: spec.device, ...(spec.gpu !== undefined ? { gpu: spec.gpu } : {}) },
      ...(spec.threads ? { threads: spec.threads } : {}),
      ...(spec.engineCacheDir ? { engineCacheDir: spec.engineCacheDir } : {}),
      ...(spec.fp16 ? { fp16: true } : {}),
      ...(spec.fixedInputShape ? { fixedInputShape: spec.fixedInputShape } : {}),
      log,
    },
    ...(spec.diffusion ? { diffusion: spec.diffusion } : {}),
  };
}

/**
 * Loads model `id` as `spec` says, wrapped for tiling when `tiled` and the spec asks for it. Change-aware
 * compute runs on whole frames: under tiling only for a model that tiles its own planes (the windows
 * are then cut from the whole frame, and tiled in turn where larger than a tile), not inside
 * TiledModel's RGB tiles. Only for the primary model; its windows change shape from frame to frame,
 * which TensorRT engines (built per shape) do not take.
 */
export async function openModel(id: string, spec: ModelSpec, log: Logger, tiled: boolean, thread?: 'worker' | 'main'): Promise<SrModel> {
  const base = loadOptionsOf(spec, log);
  const options = thread ? { ...base, session: { ...base.session, thread } } : base;
  const changeAware = tiled && spec.device !== 'tensorrt' && spec.changeThreshold !== undefined && (!spec.tiling || (await modelTilesOwnPlanes(id, spec.modelDirs)));
  const model = await loadModel(id, changeAware ? { ...options, changeThreshold: spec.changeThreshold } : options);
  return tiled && spec.tiling ? withModelTiling(model, id, options, { ...spec.tiling, log }) : model;
}

/** Source, model (with the live policy's fallback), and output(s) of a pipeline, none opened yet. */
export async function buildPipeline(spec: PipelineSpec, ctx: BuildContext): Promise<BuiltPipeline> {
  const { log, stats } = ctx;
  const source = createSource({
    input: spec.source.url,
    ...(spec.source.format ? { format: spec.source.format } : {}),
    ...(spec.source.frameRate ? { frameRate: spec.source.frameRate } : {}),
    ...(spec.source.options ? { options: spec.source.options } : {}),
    ...(spec.source.range ? { range: spec.source.range } : {}),
    ...(spec.source.copyTimestamps ? { copyTimestamps: true } : {}),
    live: { settings: spec.live, log, stats, ...(ctx.signal ? { signal: ctx.signal } : {}) },
  });
  const live = source instanceof LiveSource;
  const sinks = spec.outputs.map((o) => {
    const sink = createSink({ ...o, stats, log });
    return o.writeFrom === undefined ? sink : new WarmupSink(sink, o.writeFrom);
  });
  // a live source cannot wait: its reader must run while a frame is inferred, so ONNX Runtime gets
  // a thread of its own; a file or pipe waits for the pull, and crossing threads costs it 2-10%
  // of its throughput on two cores (tensors copied, the cores shared with the decoder and encoder)
  const thread = live ? 'worker' : 'main';
  let model = await openModel(spec.model.id, spec.model, log, true, thread);
  if (spec.inject?.modelDelayMs) model = delayedModel(model, spec.inject.modelDelayMs);
  if (live && spec.live.policy === 'fallback') {
    const fallback = await openModel(spec.fallbackModel, spec.model, log, false, thread);
    model = new FallbackModel(model, fallback, { budgetMs: spec.latencyBudgetMs, stats });
  }
  const inject = spec.inject && (spec.inject.delayMs || spec.inject.errorAfter !== undefined || spec.inject.eosAfter !== undefined);
  return {
    source,
    model,
    sink: sinks.length === 1 ? sinks[0]! : new TeeSink(sinks),
    live,
    before: inject ? [identity({ ...spec.inject, name: 'injected' })] : [],
  };
}

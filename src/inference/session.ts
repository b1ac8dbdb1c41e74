import type { Logger } from '../core/log.js';
import { InferenceError, UsageError, errorMessage } from '../core/errors.js';
import { ort, type Ort } from './ort.js';
import { planProviders, type DeviceOptions, type ProviderName } from './providers.js';
import { createThreadSession, type RunnableSession } from './session-thread.js';

export interface SessionSettings {
  readonly device: DeviceOptions;
  /** Intra-op threads; 0 or undefined lets ONNX Runtime choose (one per core). */
  readonly threads?: number;
  /** Run GPU providers in half precision (graph I/O stays float32). */
  readonly fp16?: boolean;
  /** TensorRT: where built engines are cached between runs. */
  readonly engineCacheDir?: string;
  /** TensorRT: the fixed input shape engines are built for (the reference's --image_height/--image_width). */
  readonly fixedInputShape?: { readonly height: number; readonly width: number };
  /** ONNX Runtime knobs the benchmark compares (src/bench/ort-settings.ts); the defaults are its choice. */
  readonly tuning?: SessionTuning;
  /**
   * Where ONNX Runtime computes: on the main thread (the default), which run() then blocks, or on a
   * thread of its own, so that the main thread stays free meanwhile (live inputs: their reader must
   * keep reading; buildPipeline asks for it).
   */
  readonly thread?: 'worker' | 'main';
  /** Told the wall time of every session.run, in ms (benchmarks). */
  readonly onRunTime?: (ms: number) => void;
  readonly log: Logger;
}

export interface SessionTuning {
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  readonly enableCpuMemArena?: boolean;
  readonly enableMemPattern?: boolean;
}

export interface TensorSpec {
  readonly type: string;
  readonly shape: ReadonlyArray<number | string>;
}

export function describeShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(',')}]`;
}

function describeFeeds(feeds: Record<string, Ort.Tensor>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name} ${t.type}${describeShape(t.dims)}`)
    .join(', ');
}

/**
 * One ONNX Runtime session with its execution providers settled, its declared inputs known, and
 * every run checked against them first, so that a mismatch names the model, the tensor and the
 * shapes instead of surfacing as an opaque native error.
 */
export class OnnxSession {
  readonly inputs: ReadonlyMap<string, TensorSpec>;
  readonly outputs: ReadonlyMap<string, TensorSpec>;

  private constructor(
    readonly modelId: string,
    readonly path: string,
    private readonly session: RunnableSession,
    readonly providers: readonly ProviderName[],
    private readonly onRunTime?: (ms: number) => void,
  ) {
    this.inputs = specs(session.inputMetadata);
    this.outputs = specs(session.outputMetadata);
  }

  /** `model`: the graph's bytes when they differ from the file at `path` (named in messages). */
  static async create(modelId: string, path: string, settings: SessionSettings, model?: Uint8Array): Promise<OnnxSession> {
    const plan = planProviders(settings.device.device);
    for (const w of plan.warnings) settings.log.warn(w);
    let providers = plan.providers;
    for (;;) {
      try {
        const options = sessionOptions(providers, settings);
        const session = settings.thread === 'worker' ? await createThreadSession(model ?? path, options) : await (model ? ort().InferenceSession.create(model, options) : ort().InferenceSession.create(path, options));
        return new OnnxSession(modelId, path, session, providers, settings.onRunTime);
      } catch (err) {
        const failed = providers[0];
        if (providers.length > 1 && failed && new RegExp(failed, 'i').test(errorMessage(err))) {
          settings.log.warn(`${failed} execution provider failed to start (${errorMessage(err)}); falling back to ${providers[1]}`);
          providers = providers.slice(1);
          continue;
        }
        // a file that is not a readable ONNX graph (truncated, corrupt, not ONNX at all) is the
        // user's model file, a bad input like any other (exit 2); anything else is a runtime failure
        if (/protobuf parsing failed|INVALID_PROTOBUF|INVALID_GRAPH|No such file|is not a valid/i.test(errorMessage(err))) {
          throw new UsageError(`model ${modelId}: ${path} is not a readable ONNX model (truncated or corrupt?): ${errorMessage(err)}`, { cause: err });
        }
        throw new InferenceError(`model ${modelId}: cannot load ${path}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  /** Throws an InferenceError naming the model, stage and tensor when feeds don't fit the graph. */
  check(feeds: Record<string, Ort.Tensor>, stage: string): void {
    for (const [name, spec] of this.inputs) {
      const t = feeds[name];
      if (!t) throw new InferenceError(`model ${this.modelId} (${stage}): input '${name}' ${describeShape(spec.shape)} is missing; given ${describeFeeds(feeds)}`);
      const dims = t.dims;
      const bad = t.type !== spec.type || dims.length !== spec.shape.length || spec.shape.some((d, i) => typeof d === 'number' && d >= 0 && d !== dims[i]);
      if (bad) {
        throw new InferenceError(`model ${this.modelId} (${stage}): input '${name}' expects ${spec.type}${describeShape(spec.shape)}, got ${t.type}${describeShape(dims)}`);
      }
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputs.has(name)) throw new InferenceError(`model ${this.modelId} (${stage}): the graph has no input '${name}' (inputs: ${[...this.inputs.keys()].join(', ')})`);
    }
  }

  /** `outputs`: preallocated output tensors ONNX Runtime writes into, or the names of the outputs wanted. */
  async run(feeds: Record<string, Ort.Tensor>, stage: string, outputs?: Record<string, Ort.Tensor> | readonly string[]): Promise<Record<string, Ort.Tensor>> {
    this.check(feeds, stage);
    const t0 = performance.now();
    try {
      return await (outputs ? this.session.run(feeds, outputs as Ort.InferenceSession.FetchesType) : this.session.run(feeds));
    } catch (err) {
      throw new InferenceError(`model ${this.modelId} (${stage}): inference failed on ${describeFeeds(feeds)}: ${errorMessage(err)}`, { cause: err });
    } finally {
      this.onRunTime?.(performance.now() - t0);
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function specs(meta: readonly Ort.InferenceSession.ValueMetadata[]): Map<string, TensorSpec> {
  const map = new Map<string, TensorSpec>();
  for (const m of meta) map.set(m.name, m.isTensor ? { type: m.type, shape: m.shape } : { type: 'non-tensor', shape: [] });
  return map;
}

function sessionOptions(providers: readonly ProviderName[], settings: SessionSettings): Ort.InferenceSession.SessionOptions {
  const gpu = settings.device.gpu ?? 0;
  return {
    executionProviders: providers.map((name) => (name === 'cpu' ? 'cpu' : { name, deviceId: gpu })),
    graphOptimizationLevel: 'all',
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Idle ORT threads would otherwise spin on the two cores the decoder and encoder need.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...settings.tuning,
  };
}

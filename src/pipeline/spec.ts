import type { Precision } from '../models/manifest.js';
import type { LoadModelOptions } from '../models/load.js';
import type { BackoffSettings } from '../core/backoff.js';
import type { Rational } from '../core/rational.js';
import type { EncoderSettings } from '../av/output.js';
import type { Device } from '../inference/providers.js';
import type { TilingSettings } from '../inference/tiled-model.js';
import type { IdentityOptions } from '../operators/identity.js';
import type { LiveSettings } from '../sources/live-options.js';
import type { OutputRequest } from '../sinks/live-outputs.js';
import type { FrameRange } from '../sources/av-source.js';

export interface OutputSpec extends OutputRequest {
  readonly encoder: EncoderSettings;
  readonly pixelFormat?: string;
  /** Frames before this pts go through the model but are not written (a chunk's warm-up). */
  readonly writeFrom?: number;
}

export interface ModelSpec {
  readonly id: string;
  readonly scale: number;
  readonly device: Device;
  readonly gpu?: number;
  readonly threads?: number;
  readonly modelDirs?: readonly string[];
  /** TensorRT engine cache, precision and fixed input shape. */
  readonly engineCacheDir?: string;
  readonly fp16?: boolean;
  readonly fixedInputShape?: { readonly height: number; readonly width: number };
  /** --precision: the weights of models that ship several; undefined: auto. */
  readonly precision?: Precision;
  /** --tile / --max-memory: run the model on overlapping tiles (the primary model only). */
  readonly tiling?: TilingSettings;
  /** --change-threshold: change-aware compute with this threshold in 8-bit levels; undefined: off. Under tiling, only for models that tile their own planes. */
  readonly changeThreshold?: number;
  /** Options of diffusion models (stream-diffvsr): steps, seed, scene-cut threshold. */
  readonly diffusion?: LoadModelOptions['diffusion'];
}

export interface RestartSettings extends BackoffSettings {
  /** undefined: on for live sources, off for files. */
  readonly enabled?: boolean;
}

/**
 * Everything one pipeline needs, with every default filled in: what a pipeline file and the
 * `-i ... -o ...` command line both turn into.
 */
export interface PipelineSpec {
  readonly id: string;
  readonly source: {
    readonly url: string;
    readonly format?: string;
    readonly frameRate?: Rational;
    readonly options?: Readonly<Record<string, string>>;
    /** Part of a file only (a chunk of a queued job). */
    readonly range?: FrameRange;
    /** -copyts: outputs keep the input's timestamps instead of starting at 0. */
    readonly copyTimestamps?: boolean;
  };
  readonly live: LiveSettings;
  readonly model: ModelSpec;
  readonly fallbackModel: string;
  readonly latencyBudgetMs: number;
  readonly outputs: readonly OutputSpec[];
  readonly maxInFlight: number;
  readonly restart: RestartSettings;
  /** Replace file outputs that exist already (pipeline files: `overwrite: true`; the CLI's -y). */
  readonly overwrite?: boolean;
  /** Fault injection (tests): a slow or failing stage before the model, a slower model. */
  readonly inject?: IdentityOptions & { readonly modelDelayMs?: number };
}

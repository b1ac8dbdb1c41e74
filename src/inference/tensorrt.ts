import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import type { VideoInfo } from '../core/frame.js';
import type { ModelManifest } from '../models/manifest.js';
import { planProviders } from './providers.js';
import type { SessionSettings } from './session.js';

/** `$XDG_CACHE_HOME/stream-sr/trt`, else `~/.cache/stream-sr/trt`: where built engines are kept. */
export function defaultEngineCacheRoot(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), DEFAULTS.engineCacheSubdir);
}

export interface TensorRtPlan {
  /** One folder per model, scale, precision and fixed shape, so engines never overwrite each other. */
  readonly cacheDir: string;
  /** ORT_TENSORRT_* variables the TensorRT execution provider reads when it is created. */
  readonly env: Readonly<Record<string, string>>;
  /** No engine in the cache yet: this run builds one (minutes, not seconds). */
  readonly firstBuild: boolean;
  readonly describe: string;
}

function shapeText(m: ModelManifest, height: number, width: number): string {
  return m.layout === 'NCHW' ? `1x3x${height}x${width}` : `1x${height}x${width}x3`;
}

/** The profile shapes for every frame input of the graph (history inputs included), in ORT's text form. */
function profileShapes(m: ModelManifest, scale: number, shape: { height: number; width: number }): string {
  const parts = [`${m.inputs.frame}:${shapeText(m, shape.height, shape.width)}`];
  if (m.inputs.previousFrame) parts.push(`${m.inputs.previousFrame}:${shapeText(m, shape.height, shape.width)}`);
  if (m.inputs.previousOutput) parts.push(`${m.inputs.previousOutput}:${shapeText(m, shape.height * scale, shape.width * scale)}`);
  return parts.join(',');
}

function hasEngine(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.engine'));
}

/** Engine cache, precision and optimisation profile for a TensorRT session of one model variant. */
export function planTensorRt(m: ModelManifest, scale: number, settings: SessionSettings, env: NodeJS.ProcessEnv = process.env): TensorRtPlan {
  const fp16 = settings.fp16 ?? false;
  const shape = settings.fixedInputShape;
  const name = `${m.id}-x${scale}-${fp16 ? 'fp16' : 'fp32'}${shape ? `-${shape.width}x${shape.height}` : ''}`;
  const cacheDir = join(settings.engineCacheDir ?? defaultEngineCacheRoot(env), name);
  const vars: Record<string, string> = {
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_CACHE_PATH: cacheDir,
    ORT_TENSORRT_FP16_ENABLE: fp16 ? '1' : '0',
  };
  if (shape) {
    const profile = profileShapes(m, scale, shape);
    Object.assign(vars, { ORT_TENSORRT_PROFILE_MIN_SHAPES: profile, ORT_TENSORRT_PROFILE_OPT_SHAPES: profile, ORT_TENSORRT_PROFILE_MAX_SHAPES: profile });
  }
  const describe = `${m.id} x${scale}, ${fp16 ? 'fp16' : 'fp32'}, ${shape ? `input ${shape.width}x${shape.height}` : 'dynamic input size'}`;
  return { cacheDir, env: vars, firstBuild: !hasEngine(cacheDir), describe };
}

/**
 * Engine cache and optimisation profile for one graph file (the Stream-DiffVSR per-frame graphs):
 * the cache folder is keyed by the graph's content hash, so a re-export never loads a stale engine,
 * and `inputShapes` (every input, fixed) give min = opt = max: one engine for the whole frame.
 */
export function planGraphTensorRt(
  id: string,
  graphHash: string,
  inputShapes: Readonly<Record<string, readonly number[]>> | undefined,
  settings: SessionSettings,
  env: NodeJS.ProcessEnv = process.env,
): TensorRtPlan {
  const fp16 = settings.fp16 ?? false;
  const shape = settings.fixedInputShape;
  const name = `${id}-${fp16 ? 'fp16' : 'fp32'}${shape ? `-${shape.width}x${shape.height}` : ''}-${graphHash.slice(0, 16)}`;
  const cacheDir = join(settings.engineCacheDir ?? defaultEngineCacheRoot(env), name);
  const vars: Record<string, string> = { ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1', ORT_TENSORRT_CACHE_PATH: cacheDir, ORT_TENSORRT_FP16_ENABLE: fp16 ? '1' : '0' };
  if (inputShapes) {
    const profile = Object.entries(inputShapes)
      .map(([input, dims]) => `${input}:${dims.join('x')}`)
      .join(',');
    Object.assign(vars, { ORT_TENSORRT_PROFILE_MIN_SHAPES: profile, ORT_TENSORRT_PROFILE_OPT_SHAPES: profile, ORT_TENSORRT_PROFILE_MAX_SHAPES: profile });
  }
  const describe = `${id}, ${fp16 ? 'fp16' : 'fp32'}, ${shape ? `input ${shape.width}x${shape.height}` : 'the export’s input size'}, graph ${graphHash.slice(0, 16)}`;
  return { cacheDir, env: vars, firstBuild: !hasEngine(cacheDir), describe };
}

/** Runs `work` with extra environment variables, then puts the environment back as it was. */
export async function withEnv<T>(vars: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** What a model session needs from the TensorRT settings once the provider list is known. */
export interface ProviderSetup {
  readonly tensorrt?: TensorRtPlan;
  /** Frames must have this size (the engine's fixed shape). */
  readonly requiredInput?: { readonly width: number; readonly height: number };
}

/**
 * Decides what the device options mean on this machine: with TensorRT available, its plan (and a
 * note that the first run builds an engine); without it, a warning for each option that is then
 * ignored. `libraryDir` is where provider libraries are looked for (tests).
 */
export function setUpProviders(m: ModelManifest, scale: number, settings: SessionSettings, libraryDir?: string): ProviderSetup {
  const { device, gpu } = settings.device;
  if (gpu !== undefined && (!Number.isInteger(gpu) || gpu < 0)) throw new UsageError(`--gpu ${gpu}: a GPU index is a whole number from 0`);
  const trtOptions = [settings.engineCacheDir && '--engine-cache', settings.fp16 && '--fp16', settings.fixedInputShape && '--image-height/--image-width'].filter(Boolean);
  if (gpu !== undefined && device === 'cpu') settings.log.warn('--gpu is ignored with --device cpu');
  if (device !== 'tensorrt') {
    if (trtOptions.length) settings.log.warn(`${trtOptions.join(', ')} apply to --device tensorrt only; ignored with --device ${device}`);
    return {};
  }
  if (!planProviders(device, libraryDir).providers.includes('tensorrt')) {
    if (trtOptions.length) settings.log.warn(`${trtOptions.join(', ')} ignored: the TensorRT execution provider is not available here`);
    return {};
  }
  const plan = planTensorRt(m, scale, settings);
  if (plan.firstBuild) settings.log.info(`TensorRT: building an engine for ${plan.describe} into ${plan.cacheDir}; the first run takes minutes, later runs load it from there`);
  else settings.log.verbose(`TensorRT: using the cached engine in ${plan.cacheDir}`);
  return { tensorrt: plan, ...(settings.fixedInputShape ? { requiredInput: settings.fixedInputShape } : {}) };
}

/** With a fixed-shape engine, a frame of another size would force a rebuild mid-stream: refuse it up front. */
export function checkRequiredInput(setup: ProviderSetup, input: VideoInfo, modelId: string): void {
  const want = setup.requiredInput;
  if (want && (input.width !== want.width || input.height !== want.height)) {
    throw new UsageError(`model ${modelId}: the input is ${input.width}x${input.height} but the TensorRT engine is built for --image-width ${want.width} --image-height ${want.height}`);
  }
}

/** After the first run: an engine cache that is still empty means this onnxruntime build ignored the settings. */
export function checkEngineWritten(setup: ProviderSetup, warn: (msg: string) => void): void {
  const plan = setup.tensorrt;
  if (plan?.firstBuild && !hasEngine(plan.cacheDir)) {
    warn(`TensorRT wrote no engine into ${plan.cacheDir}: this onnxruntime build did not take the ORT_TENSORRT_* settings, so the next run builds the engine again`);
  }
}

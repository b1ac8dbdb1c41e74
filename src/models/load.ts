import { UsageError } from '../core/errors.js';
import { OnnxFrameModel } from '../inference/onnx-frame-model.js';
import type { SessionSettings } from '../inference/session.js';
import type { SrModel } from '../inference/sr-model.js';
import { SwscaleModel } from '../inference/swscale-model.js';
import { preferredOnCpu, tilesOwnPlanes, variantFor, type ModelManifest, type Precision } from './manifest.js';
import { findModel } from './registry.js';
import { cpuFeatures, type CpuFeatures } from '../inference/cpu-features.js';
import { planProviders, type ProviderName } from '../inference/providers.js';
import { findDiffVsrExport } from '../inference/stream-diffvsr/locate.js';
import { StreamDiffVsrModel, type DiffVsrOptions } from '../inference/stream-diffvsr/runtime.js';

export interface LoadModelOptions {
  readonly scale: number;
  /** The weights of models that ship several precisions; undefined: auto (see precisionFor). */
  readonly precision?: Precision;
  readonly modelDirs?: readonly string[];
  readonly session: SessionSettings;
  /** Options of diffusion models (stream-diffvsr: steps, seed, resetThreshold, ...); other kinds ignore them. */
  readonly diffusion?: DiffVsrOptions;
  /** Change-aware compute's threshold in 8-bit levels (ONNX models on [0,1] NCHW planes); undefined: off. */
  readonly changeThreshold?: number;
}

/** Finds a model by id or manifest path and opens it for the requested scale. */
export async function loadModel(name: string, opts: LoadModelOptions): Promise<SrModel> {
  const diffvsr = await findDiffVsrExport(name, opts.modelDirs);
  if (diffvsr) return StreamDiffVsrModel.load(diffvsr, opts.scale, opts.session, opts.diffusion);
  const manifest = await findModel(name, opts.modelDirs);
  switch (manifest.kind) {
    case 'frame-graph': {
      const native = manifest.extra.native;
      // a filter swscale runs on the decoded pictures, with its ONNX graph for float RGB pipelines
      if (typeof native === 'string' && native.startsWith('swscale:')) {
        variantFor(manifest, opts.scale, opts.precision); // an unknown scale or precision is refused as for other models
        const { device } = opts.session.device;
        const onNative = () => {
          if (device !== 'cpu') opts.session.log.warn(`model ${manifest.id} runs in swscale on the CPU: --device ${device} applies to ONNX models only`);
        };
        return new SwscaleModel(manifest.id, opts.scale, native.slice('swscale:'.length), () => OnnxFrameModel.load(manifest, opts.scale, opts.session), onNative);
      }
      return OnnxFrameModel.load(manifest, opts.scale, opts.session, precisionFor(manifest, opts), opts.changeThreshold);
    }
    default:
      throw new UsageError(`model ${manifest.id}: kind '${manifest.kind}' is not supported by this build`);
  }
}

/** tilesOwnPlanes of model `name`, before it is loaded (change-aware compute's threshold is given at load). */
export async function modelTilesOwnPlanes(name: string, modelDirs?: readonly string[]): Promise<boolean> {
  if (await findDiffVsrExport(name, modelDirs)) return false;
  return tilesOwnPlanes(await findModel(name, modelDirs));
}

/**
 * The precision to load: the one asked for; on auto on the CPU, a variant whose `autoOn` this CPU
 * meets (an int8 graph where the CPU has 8-bit dot products), else the manifest's default (its first
 * variant for the scale); on GPUs fp32 where there is one, as their providers run QDQ int8 graphs
 * without the CPU's integer kernels (TensorRT would want its own calibration). A GPU device whose
 * provider is not installed falls back to the CPU (planProviders), and so takes the CPU's choice.
 * Where a scale ships several, -v says which and why.
 */
export function precisionFor(
  manifest: ModelManifest,
  opts: Pick<LoadModelOptions, 'scale' | 'precision' | 'session'>,
  cpu: CpuFeatures = cpuFeatures(),
  provider: ProviderName = firstProvider(opts.session.device.device),
): Precision | undefined {
  if (opts.precision) return opts.precision;
  const forScale = manifest.variants.filter((v) => v.scale === opts.scale);
  const say = (precision: Precision, why: string) => {
    if (forScale.length > 1) opts.session.log.verbose(`${manifest.id} x${opts.scale}: ${precision} weights (--precision auto), ${why}`);
  };
  if (provider !== 'cpu') {
    const fp32 = forScale.some((v) => v.precision === 'fp32');
    if (fp32) say('fp32', `as ${provider} runs float graphs`);
    return fp32 ? 'fp32' : undefined;
  }
  const fellBack = opts.session.device.device !== 'cpu' ? ` (--device ${opts.session.device.device} fell back to the CPU)` : '';
  const preferred = preferredOnCpu(manifest, opts.scale, cpu);
  if (preferred) say(preferred.precision, `as this CPU has 8-bit dot products (${cpu.int8DotProductFlag})${fellBack}`);
  else if (forScale[0]) {
    const waiting = forScale.find((v) => v.autoOn === 'int8-dot-product');
    say(forScale[0].precision, waiting ? `as this CPU has no 8-bit dot products for its ${waiting.precision} weights${fellBack}` : `the model's default${fellBack}`);
  }
  return preferred?.precision;
}

/** The provider a device's session will run on here: the first of its list whose library is installed. */
function firstProvider(device: LoadModelOptions['session']['device']['device']): ProviderName {
  return device === 'cpu' ? 'cpu' : (planProviders(device).providers[0] ?? 'cpu');
}


import { UsageError } from '../core/errors.js';
import { ImageModel } from '../inference/image-model.js';
import type { SessionSettings } from '../inference/session.js';
import type { SrModel } from '../inference/sr-model.js';
import { findModel } from './registry.js';

export interface LoadModelOptions {
  readonly scale: number;
  readonly modelDirs?: readonly string[];
  readonly session: SessionSettings;
  /** Options of diffusion models (stream-diffvsr); other kinds ignore them. */
  readonly diffusion?: {
    readonly steps?: number;
    readonly seed?: number;
    /** Scene-cut threshold: above it, the history is dropped. */
    readonly resetThreshold?: number;
  };
}

/** Finds a model by id or manifest path and opens it for the requested scale. */
export async function loadModel(name: string, opts: LoadModelOptions): Promise<SrModel> {
  const manifest = await findModel(name, opts.modelDirs);
  switch (manifest.kind) {
    case 'image':
      return ImageModel.load(manifest, opts.scale, opts.session);
    default:
      throw new UsageError(`model ${manifest.id}: kind '${manifest.kind}' is not supported by this build`);
  }
}

import { join } from 'node:path';
import { InferenceError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { checkGraphMatchesManifest } from '../inference/onnx-frame-model.js';
import { ort } from '../inference/ort.js';
import { OnnxSession, describeShape } from '../inference/session.js';
import { tensorDims } from '../inference/tensor.js';
import { readManifest } from './manifest.js';
import { MANIFEST } from './registry.js';

const PROBE = 8;

/**
 * Opens every variant of a freshly written model folder on the CPU, checks its graph against the
 * manifest and runs it on a small frame: a model is registered only when it really upscales.
 */
export async function verifyModelDir(dir: string): Promise<void> {
  const manifest = await readManifest(join(dir, MANIFEST));
  for (const variant of manifest.variants) {
    const session = await OnnxSession.create(manifest.id, variant.file, { device: { device: 'cpu' }, threads: 1, log: silentLogger });
    try {
      checkGraphMatchesManifest(manifest, session, variant.file);
      const dims = tensorDims(manifest.layout, PROBE, PROBE);
      const input = new (ort().Tensor)('float32', new Float32Array(3 * PROBE * PROBE), dims);
      const out = (await session.run({ [manifest.inputs.frame]: input }, 'verification'))[manifest.output];
      const want = tensorDims(manifest.layout, PROBE * variant.scale, PROBE * variant.scale);
      if (!out || out.dims.some((d, i) => d !== want[i])) {
        throw new InferenceError(`model ${manifest.id} x${variant.scale}: a ${PROBE}x${PROBE} frame gave ${out ? describeShape(out.dims) : 'no output'}, expected ${describeShape(want)}`);
      }
    } finally {
      await session.release();
    }
  }
}

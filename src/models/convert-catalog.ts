import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { readNcnnModel } from '../convert/ncnn-model.js';
import { ncnnToOnnx } from '../convert/ncnn-to-onnx.js';
import { readTfjsModel } from '../convert/tfjs-model.js';
import { tfjsToOnnx } from '../convert/tfjs-to-onnx.js';
import { writeAtomic } from './build.js';
import type { CatalogEntry, NpmSource } from './catalog.js';
import { installModelDir, writeManifest } from './install.js';
import { findPackageDir, packageVersion } from './npm-package.js';
import { verifyModelDir } from './verify.js';

function variantFile(id: string, scale: number): string {
  return `${id}-x${scale}.onnx`;
}

/** Converts an npm-shipped TensorFlow.js model (esrgan-slim, esrgan-medium) into `modelsDir/<id>`. */
export async function buildNpmModel(entry: CatalogEntry & { source: NpmSource }, modelsDir: string): Promise<string> {
  const src = entry.source;
  const pkgDir = findPackageDir(src.package);
  if (!pkgDir) throw new UsageError(`model ${entry.id}: npm package ${src.package} is not installed (run \`make deps\`)`);
  const version = packageVersion(pkgDir);
  if (version !== src.version) throw new UsageError(`model ${entry.id}: ${src.package} is version ${version}, stream-sr converts ${src.version}`);
  return installModelDir(modelsDir, entry.id, async (dir) => {
    const variants = [];
    for (const v of src.variants) {
      const model = await readTfjsModel(join(pkgDir, v.modelJson));
      const onnx = tfjsToOnnx(model, {
        graphName: `${entry.id}_x${v.scale}`,
        docString: `${entry.id} x${v.scale}: ${entry.origin}`,
        metadata: { license: entry.license },
        // frames are 0..1 floats: folding the 0..255 scaling into the weights spares two passes per frame
        inputScale: src.nativeMax,
        outputScale: 1 / src.nativeMax,
      });
      await writeAtomic(join(dir, variantFile(entry.id, v.scale)), onnx);
      variants.push({ scale: v.scale, file: variantFile(entry.id, v.scale) });
    }
    await writeManifest(dir, entry, variants, { convertedFrom: { package: src.package, version } });
    await verifyModelDir(dir);
  });
}

export interface NcnnFiles {
  readonly scale: number;
  readonly param: string;
  readonly bin: string;
}

/** Converts downloaded ncnn files into ONNX variants plus model.json inside `dir`, then checks them. */
export async function convertNcnnVariants(entry: CatalogEntry, files: readonly NcnnFiles[], dir: string, provenance: Record<string, unknown> = {}): Promise<void> {
  const variants = [];
  for (const f of files) {
    const onnx = ncnnToOnnx(await readNcnnModel(f.param, f.bin), { graphName: `${entry.id}_x${f.scale}`, docString: `${entry.id} x${f.scale}: ${entry.origin}`, metadata: { license: entry.license } });
    await writeAtomic(join(dir, variantFile(entry.id, f.scale)), onnx);
    variants.push({ scale: f.scale, file: variantFile(entry.id, f.scale) });
  }
  await writeManifest(dir, entry, variants, provenance);
  await verifyModelDir(dir);
}

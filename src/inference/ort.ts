import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';

export type { Ort };

let loaded: typeof Ort | undefined;

/** onnxruntime-node, loaded on first use so that commands that never infer start fast. */
export function ort(): typeof Ort {
  if (!loaded) loaded = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
  return loaded;
}

/** Folder holding onnxruntime-node's native libraries (where GPU provider libraries are installed). */
export function ortLibraryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('onnxruntime-node/package.json');
  return pkg.replace(/package\.json$/, `bin/napi-v6/${process.platform}/${process.arch}`);
}

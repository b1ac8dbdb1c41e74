import { UsageError } from '../core/errors.js';
import { buildBicubic } from './build.js';
import { catalogEntry, type CatalogEntry, type NpmSource } from './catalog.js';
import { buildNpmModel } from './convert-catalog.js';

/** The models `make models` puts into models/: the bicubic baseline and the two npm-shipped ESRGANs. */
export const BUNDLED = ['bicubic', 'esrgan-slim', 'esrgan-medium'] as const;

/** Builds (bicubic) or converts (esrgan-*) each named bundled model into `modelsDir`; returns the folders. */
export async function buildModels(modelsDir: string, ids: readonly string[] = BUNDLED, onBuilt?: (dir: string) => void): Promise<string[]> {
  const dirs: string[] = [];
  for (const id of ids) {
    let dir: string;
    if (id === 'bicubic') dir = await buildBicubic(modelsDir);
    else {
      const entry = catalogEntry(id);
      if (!entry || entry.source.kind !== 'npm') {
        throw new UsageError(`models build: '${id}' is not built here (buildable: ${BUNDLED.join(', ')}${entry ? `; ${id} is fetched with \`stream-sr models pull ${id}\`` : ''})`);
      }
      dir = await buildNpmModel(entry as CatalogEntry & { source: NpmSource }, modelsDir);
    }
    onBuilt?.(dir);
    dirs.push(dir);
  }
  return dirs;
}

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { catalogEntry, installHint } from './catalog.js';
import { readManifest, type ModelManifest } from './manifest.js';

export const MANIFEST = 'model.json';

/**
 * Folders searched for `<id>/model.json`, first match wins: --model-dir folders, then
 * STREAM_SR_MODEL_PATH entries, then the package's own models/.
 */
export function searchPath(modelDirs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, builtinDir = join(packageRoot(), 'models')): string[] {
  const fromEnv = (env.STREAM_SR_MODEL_PATH ?? '').split(delimiter).filter(Boolean);
  return [...modelDirs, ...fromEnv, builtinDir].map((d) => resolve(d));
}

/** A model named by a path (to model.json or its folder) rather than by id. */
export function looksLikePath(name: string): boolean {
  return name.endsWith('.json') || name.includes('/') || name.includes('\\');
}

/** Finds a model by id, or by a path to its model.json (or its folder). */
export async function findModel(name: string, modelDirs: readonly string[] = [], env?: NodeJS.ProcessEnv, builtinDir?: string): Promise<ModelManifest> {
  if (looksLikePath(name)) {
    const path = name.endsWith('.json') ? name : join(name, MANIFEST);
    if (!existsSync(path)) throw new UsageError(`model '${name}': no such file ${path}`);
    return checkFiles(await readManifest(path));
  }
  const dirs = searchPath(modelDirs, env, builtinDir);
  for (const dir of dirs) {
    const path = join(dir, name, MANIFEST);
    if (existsSync(path)) return checkFiles(await readManifest(path));
  }
  const entry = catalogEntry(name);
  if (entry) throw new UsageError(`model '${name}' is known but not installed here: ${installHint(entry)} (searched ${dirs.join(', ')})`);
  const known = await listModelIds(dirs);
  const hint = known.length ? `available: ${known.join(', ')}` : 'no models are installed; run `make models`';
  // a bare name is an id; a folder of that name here is named by a path
  const folder = existsSync(join(name, MANIFEST)) ? `; for the folder ${name} here, use --model ./${name}` : '';
  throw new UsageError(`unknown model '${name}' (${hint}; searched ${dirs.join(', ')}${folder})`);
}

function checkFiles(manifest: ModelManifest): ModelManifest {
  for (const v of manifest.variants) {
    if (!existsSync(v.file)) throw new UsageError(`model ${manifest.id}: variant x${v.scale} file ${v.file} is missing (named in ${manifest.path})`);
  }
  return manifest;
}

export async function listModelIds(dirs: readonly string[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      // dot folders are models being installed (see install.ts), not models
      if (entry.isDirectory() && !entry.name.startsWith('.') && existsSync(join(dir, entry.name, MANIFEST))) ids.add(entry.name);
    }
  }
  return [...ids].sort();
}

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../core/package-root.js';

/**
 * Folder of an installed npm package, found the way Node looks for it (node_modules up the tree),
 * without resolving an entry point: the model packages' "exports" hide package.json and their
 * entry points import TensorFlow.js, which is deliberately not installed.
 */
export function findPackageDir(name: string, from = packageRoot()): string | undefined {
  const require = createRequire(join(from, 'package.json'));
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

export function packageVersion(dir: string): string {
  return String((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version ?? '?');
}

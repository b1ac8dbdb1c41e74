import { existsSync } from 'node:fs';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { UsageError, errorMessage } from '../core/errors.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeAtomic } from './build.js';
import type { CatalogEntry } from './catalog.js';

/**
 * Fills a model folder under a hidden staging name and renames it into place only when `fill` has
 * finished: a crash, a failed download or a bad checksum never leaves a registered half-model
 * (the registry ignores folders whose name starts with a dot).
 */
export async function installModelDir(modelsDir: string, id: string, fill: (dir: string) => Promise<void>): Promise<string> {
  try {
    await mkdir(modelsDir, { recursive: true });
    await access(modelsDir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write models into ${modelsDir} (${errorMessage(err)}); name another folder with --out`, { cause: err });
  }
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(modelsDir, `.${id}.staging-${tag}`);
  const final = join(modelsDir, id);
  const old = join(modelsDir, `.${id}.old-${tag}`);
  await mkdir(staging);
  try {
    await fill(staging);
    if (existsSync(final)) await rename(final, old);
    await rename(staging, final);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(final)) await rename(old, final);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
  return final;
}

/** The model.json of a converted catalog model. */
export async function writeManifest(dir: string, entry: CatalogEntry, variants: ReadonlyArray<{ scale: number; file: string }>, extra: Record<string, unknown> = {}): Promise<void> {
  const manifest = {
    format: 'stream-sr-model/1',
    id: entry.id,
    kind: 'frame-graph',
    description: entry.description,
    variants,
    inputs: { frame: 'input' },
    output: 'output',
    layout: 'NCHW',
    range: entry.range,
    history: false,
    license: entry.license,
    origin: entry.origin,
    ...extra,
  };
  await writeAtomic(join(dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * Finding a Stream-DiffVSR export: `--model stream-diffvsr` with `--model-dir DIR` (DIR is the
 * export, or holds it as `stream-diffvsr/` or `stream-diffvsr/export/`), STREAM_SR_MODEL_PATH or the
 * package's models/ (where export.py's README example writes it); or
 * `--model path/to/export` (folder or its manifest.json). A folder that is incomplete, a PyTorch
 * checkpoint, or a hub id gets one message naming what is missing and where the README explains it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UsageError, errorMessage } from '../../core/errors.js';
import { looksLikePath, searchPath } from '../../models/registry.js';
import { EXPECTED_FILES, EXPORT_HELP, EXPORT_MANIFEST, missingFiles, missingGraphs, parseExport, type DiffVsrExport } from './export-manifest.js';

export const DIFFVSR_ID = 'stream-diffvsr';

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Reads, validates and completeness-checks the export whose manifest is at `path`. */
export async function readExport(path: string): Promise<DiffVsrExport> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`Stream-DiffVSR export ${path}: cannot read it (${errorMessage(err)}); ${EXPORT_HELP}`, { cause: err });
  }
  const exp = parseExport(json, path);
  const problems = [...missingGraphs(exp).map((g) => `graph ${g} (not in the manifest)`), ...missingFiles(exp)];
  if (problems.length) {
    throw new UsageError(`Stream-DiffVSR export ${exp.dir} is incomplete; missing: ${problems.join(', ')}. Re-run the exporter into that folder (${EXPORT_HELP})`);
  }
  return exp;
}

function checkpointLayout(dir: string): boolean {
  return existsSync(join(dir, 'model_index.json')) || existsSync(join(dir, 'unet', 'config.json'));
}

/** Why `dir` (which has no manifest.json) is not an export, as a user error. */
function notAnExport(dir: string, asked: string): UsageError {
  if (checkpointLayout(dir)) {
    return new UsageError(`model '${asked}': ${dir} is a PyTorch checkpoint, not an ONNX export; convert it with models/stream-diffvsr/export.py (${EXPORT_HELP})`);
  }
  const present = new Set(readdirSync(dir));
  const missing = EXPECTED_FILES.filter((f) => !present.has(f));
  return new UsageError(`model '${asked}': ${dir} is not a complete Stream-DiffVSR export; missing: ${missing.join(', ')} (${EXPORT_HELP})`);
}

async function byPath(name: string): Promise<DiffVsrExport | undefined> {
  const path = resolve(name);
  if (basename(path) === EXPORT_MANIFEST && existsSync(path)) return readExport(path);
  if (isDir(path)) {
    if (existsSync(join(path, EXPORT_MANIFEST))) return readExport(join(path, EXPORT_MANIFEST));
    if (existsSync(join(path, 'model.json'))) return undefined;
    throw notAnExport(path, name);
  }
  if (!existsSync(path) && !name.endsWith('.json') && /^[\w.-]+\/[\w.-]+$/.test(name)) {
    throw new UsageError(`model '${name}': no such folder; if it is a Hugging Face checkpoint id, export it to ONNX first with models/stream-diffvsr/export.py --checkpoint ${name} (${EXPORT_HELP})`);
  }
  return undefined;
}

async function byId(modelDirs: readonly string[], env: NodeJS.ProcessEnv, builtinDir: string | undefined): Promise<DiffVsrExport> {
  const dirs = searchPath(modelDirs, env, builtinDir);
  for (const dir of dirs) {
    for (const candidate of [dir, join(dir, DIFFVSR_ID), join(dir, DIFFVSR_ID, 'export')]) {
      if (existsSync(join(candidate, EXPORT_MANIFEST))) return readExport(join(candidate, EXPORT_MANIFEST));
    }
  }
  const given = modelDirs.map((d) => resolve(d)).find(isDir);
  if (given) throw notAnExport(given, DIFFVSR_ID);
  throw new UsageError(`model '${DIFFVSR_ID}': no export found (a folder holding ${EXPECTED_FILES.join(', ')}); give it with --model-dir DIR; searched ${dirs.join(', ')} (${EXPORT_HELP})`);
}

/**
 * The export `name` asks for, or undefined when `name` is another kind of model (an image model id
 * or a model.json path), which the ordinary registry then resolves.
 */
export async function findDiffVsrExport(name: string, modelDirs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, builtinDir?: string): Promise<DiffVsrExport | undefined> {
  if (name === DIFFVSR_ID) return byId(modelDirs, env, builtinDir);
  if (looksLikePath(name)) return byPath(name);
  return undefined;
}

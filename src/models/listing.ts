import { statSync } from 'node:fs';
import { errorMessage } from '../core/errors.js';
import { CATALOG, installHint, type DownloadSource } from './catalog.js';
import { preferredOnCpu, variantFor, type ModelManifest, type ModelVariant } from './manifest.js';
import { cpuFeatures, type CpuFeatures } from '../inference/cpu-features.js';
import { findModel, listModelIds, searchPath } from './registry.js';
import { DIFFVSR_ID, findDiffVsrExport } from '../inference/stream-diffvsr/locate.js';

/** One line of `stream-sr models`. */
export interface ModelRow {
  readonly id: string;
  readonly scales: string;
  readonly size: string;
  readonly history: string;
  /** converted / generated / ready, or what to run to install it. */
  readonly status: string;
  readonly location: string;
}

function megabytes(bytes: number): string {
  return bytes < 1e5 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function statusOf(m: ModelManifest): string {
  if (m.extra.convertedFrom || m.extra.downloadedFrom) return 'converted';
  if (m.id === 'bicubic') return 'generated';
  return 'ready';
}

/** Marks, where a scale ships several precisions, the variant `--precision auto` runs on this CPU. */
export const AUTO_MARK = '*';

function installedRow(m: ModelManifest, cpu: CpuFeatures): ModelRow {
  const bytes = m.variants.reduce((n, v) => n + statSync(v.file).size, 0);
  const auto = (v: ModelVariant): boolean => m.variants.filter((x) => x.scale === v.scale).length > 1 && v === (preferredOnCpu(m, v.scale, cpu) ?? variantFor(m, v.scale));
  const name = (v: ModelVariant): string => (v.precision === 'fp32' ? `x${v.scale}` : `x${v.scale} ${v.precision}`) + (auto(v) ? AUTO_MARK : '');
  return { id: m.id, scales: [...new Set(m.variants.map(name))].join(','), size: megabytes(bytes), history: m.history ? 'yes' : 'no', status: statusOf(m), location: m.dir };
}

/** Bytes `models pull` fetches (files shared by two variants count once). */
export function downloadBytes(src: DownloadSource): number {
  const files = new Map(src.variants.flatMap((v) => [v.param, v.bin]).map((f) => [f.name, f.bytes]));
  return [...files.values()].reduce((a, b) => a + b, 0);
}

/**
 * Every model `--model` can name: the installed ones (the folder that wins the lookup), then the
 * known ones not installed yet, with the command that installs them.
 */
export async function modelRows(modelDirs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, builtinDir?: string, cpu: CpuFeatures = cpuFeatures()): Promise<ModelRow[]> {
  const rows: ModelRow[] = [];
  const installed = await listModelIds(searchPath(modelDirs, env, builtinDir));
  for (const id of installed) {
    try {
      rows.push(installedRow(await findModel(id, modelDirs, env, builtinDir), cpu));
    } catch (err) {
      rows.push({ id, scales: '-', size: '-', history: '-', status: `unusable: ${errorMessage(err)}`, location: '-' });
    }
  }
  const diffvsr = await findDiffVsrExport(DIFFVSR_ID, modelDirs, env, builtinDir).catch(() => undefined);
  if (diffvsr) rows.push({ id: DIFFVSR_ID, scales: 'x4', size: '-', history: 'yes', status: 'exported', location: diffvsr.dir });
  if (!installed.includes('bicubic')) rows.push({ id: 'bicubic', scales: 'x2,x4', size: '-', history: 'no', status: 'not built: run `make models`', location: '-' });
  for (const entry of CATALOG) {
    if (installed.includes(entry.id)) continue;
    const src = entry.source;
    const size = src.kind === 'download' ? `${megabytes(downloadBytes(src))} download` : '-';
    const status = src.kind === 'download' ? `not pulled: ${installHint(entry)}` : `not converted: ${installHint(entry)}`;
    rows.push({ id: entry.id, scales: src.variants.map((v) => `x${v.scale}`).join(','), size, history: 'no', status, location: '-' });
  }
  if (!diffvsr) rows.push({ id: DIFFVSR_ID, scales: 'x4', size: '-', history: 'yes', status: 'not exported: see the README, "Stream-DiffVSR: export and run"', location: '-' });
  return rows;
}

export function formatRows(rows: readonly ModelRow[]): string {
  const table = [['id', 'scales', 'size', 'history', 'status', 'location'], ...rows.map((r) => [r.id, r.scales, r.size, r.history, r.status, r.location])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const lines = table.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
  return rows.some((r) => r.scales.includes(AUTO_MARK)) ? `${lines}${AUTO_MARK} the weights --precision auto (the default) runs on this CPU\n` : lines;
}

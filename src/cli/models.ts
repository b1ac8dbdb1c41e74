import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { packageRoot } from '../core/package-root.js';
import { buildBicubic } from '../models/build.js';
import { findModel, listModelIds, searchPath } from '../models/registry.js';
import { reportError } from './errors.js';
import { findDiffVsrExport } from '../inference/stream-diffvsr/locate.js';

async function list(modelDirs: string[] | undefined): Promise<void> {
  const dirs = searchPath(modelDirs);
  const ids = await listModelIds(dirs);
  const rows = [['id', 'scales', 'history', 'location']];
  for (const id of ids) {
    try {
      const m = await findModel(id, modelDirs);
      rows.push([m.id, m.variants.map((v) => `x${v.scale}`).join(','), m.history ? 'yes' : 'no', m.dir]);
    } catch (err) {
      rows.push([id, '-', '-', `unusable: ${(err as Error).message}`]);
    }
  }
  const diffvsr = await findDiffVsrExport('stream-diffvsr', modelDirs ?? []).catch(() => undefined);
  if (diffvsr) rows.push(['stream-diffvsr', 'x4', 'yes', diffvsr.dir]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const text = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
  process.stdout.write(text + '\n');
}

export const modelsCommand: CommandModule = {
  command: 'models [action]',
  describe: 'list the available models, or build the generated ones',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['list', 'build'], default: 'list', describe: 'list: show models; build: generate bicubic into models/' })
      .option('model-dir', { type: 'string', array: true, describe: 'extra folder(s) to search' })
      .option('out', { type: 'string', describe: 'where `build` writes (default: the package models/ folder)' }),
  handler: async (args) => {
    try {
      if (args.action === 'build') {
        const out = (args.out as string | undefined) ?? join(packageRoot(), 'models');
        const dir = await buildBicubic(out);
        process.stderr.write(`stream-sr: built ${dir}\n`);
      } else {
        await list(args.modelDir as string[] | undefined);
      }
    } catch (err) {
      process.exitCode = reportError(err, false);
    }
  },
};

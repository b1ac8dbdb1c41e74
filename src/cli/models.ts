import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { BUNDLED, buildModels } from '../models/bundled.js';
import { formatRows, modelRows } from '../models/listing.js';
import { BASE_URL_ENV, pullModel, pullableIds } from '../models/pull.js';
import { downloadProgressReporter } from './download-progress.js';
import { reportError } from './errors.js';

interface ModelsArgs {
  action: 'list' | 'build' | 'pull';
  ids?: string[];
  modelDir?: string[];
  out?: string;
  baseUrl?: string;
  quiet: boolean;
}

async function pull(args: ModelsArgs, out: string): Promise<void> {
  if (!args.ids?.length) throw new UsageError(`models pull: name the model(s) to download (${pullableIds().join(', ')})`);
  const baseUrl = args.baseUrl ?? process.env[BASE_URL_ENV];
  if (baseUrl !== undefined && !/^https?:\/\//i.test(baseUrl)) {
    const from = args.baseUrl !== undefined ? '--base-url ' : `${BASE_URL_ENV}=`;
    throw new UsageError(`${from}${baseUrl}: only http:// and https:// URLs are taken (serve a local mirror folder over HTTP, e.g. python3 -m http.server)`);
  }
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    for (const id of args.ids) {
      const dir = await pullModel(id, {
        modelsDir: out,
        ...(baseUrl ? { baseUrl } : {}),
        signal: controller.signal,
        ...(args.quiet ? {} : { onProgress: downloadProgressReporter() }),
      });
      process.stderr.write(`stream-sr: ${id} converted and registered in ${dir}\n`);
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    process.stderr.write('stream-sr: interrupted; the model being pulled was not registered\n');
    process.exitCode = 130;
  } finally {
    process.off('SIGINT', stop);
  }
}

async function handler(args: ModelsArgs): Promise<void> {
  try {
    const out = args.out ?? join(packageRoot(), 'models');
    if (args.action === 'build') {
      await buildModels(out, args.ids?.length ? args.ids : BUNDLED, (dir) => process.stderr.write(`stream-sr: built ${dir}\n`));
    } else if (args.action === 'pull') {
      await pull(args, out);
    } else {
      const rows = await modelRows(args.modelDir ?? []);
      const unknown = (args.ids ?? []).filter((id) => !rows.some((r) => r.id === id));
      if (unknown.length) throw new UsageError(`models list: no model ${unknown.map((id) => `'${id}'`).join(', ')} (known: ${rows.map((r) => r.id).join(', ')})`);
      process.stdout.write(formatRows(args.ids?.length ? rows.filter((r) => args.ids!.includes(r.id)) : rows));
    }
  } catch (err) {
    process.exitCode = reportError(err, false);
  }
}

export const modelsCommand: CommandModule<object, ModelsArgs> = {
  command: 'models [action] [ids..]',
  describe: 'list the models, build the bundled ones, or download and convert published ones',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['list', 'build', 'pull'], default: 'list', describe: `list: known and installed models; build: convert ${BUNDLED.join(', ')} into models/; pull ID: download, check, convert and register` })
      .positional('ids', { type: 'string', array: true, describe: `models to list, build or pull (pull: ${pullableIds().join(', ')})` })
      .option('model-dir', { type: 'string', array: true, describe: 'extra folder(s) to search (also STREAM_SR_MODEL_PATH)' })
      .option('out', { type: 'string', describe: 'where build and pull write (default: the package models/ folder)' })
      .option('base-url', { type: 'string', describe: `pull from this folder URL instead of the published location (also ${BASE_URL_ENV})` })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no download progress' })
      .example('$0 models', 'what is installed and what can be')
      .example('$0 models pull realesr-general-x4v3', 'download, verify (sha256) and convert a Real-ESRGAN model') as unknown as Argv<ModelsArgs>,
  handler,
};

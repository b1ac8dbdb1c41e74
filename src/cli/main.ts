#!/usr/bin/env node
import { createRequire } from 'node:module';
import type yargsEsm from 'yargs';
import { hideBin } from 'yargs/helpers';
import { normaliseArgv } from './common-options.js';
import { upscaleCommand } from './upscale.js';
import { modelsCommand } from './models.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { evalCommand } from './eval.js';
import { framesCommand } from './frames.js';
import { jobsCommand, submitCommand, workerCommand } from './cluster.js';
import { moveStdoutAside, writesStreamToStdout } from './stdout-guard.js';

/**
 * yargs' own messages on one line: its "Invalid values:" block becomes `--precision fp16: not one of
 * auto, fp32, int8`, as our own option errors read, and "Not enough arguments following: precision"
 * becomes `--precision: needs a value`.
 */
function oneLine(msg: string): string {
  const choice = msg.split('Argument:').length === 2 ? /^Invalid values:\s*Argument: ([\w-]+), Given: (.*), Choices: (.*)$/s.exec(msg.trim()) : null;
  const bare = /^Not enough arguments following: ([\w-]+)$/.exec(msg.trim());
  if (bare) return `--${bare[1]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: needs a value`;
  if (choice) return `--${choice[1]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${choice[2]!.trim().replace(/^"(.*)"$/, '$1')}: not one of ${choice[3]!.trim().replace(/"/g, '').replace(/\s*\n\s*/g, ' ')}`;
  return msg.replace(/\s*\n\s*/g, ' ');
}

// yargs's ES-module build lays out --help with cliui's stand-in wrapper, which cuts words at the
// column ("encod/er"); its CommonJS build wraps at word boundaries (wrap-ansi)
const yargs = createRequire(import.meta.url)('yargs') as typeof yargsEsm;

// before anything native is loaded: stdout carries the stream and nothing else
const argv = normaliseArgv(hideBin(process.argv));
if (writesStreamToStdout(argv)) moveStdoutAside();

// Downstream closed our stderr or stdout: nothing left to tell anyone, but the run goes on, so the
// output is still written whole (`stream-sr ... 2>&1 | head -1` must not cut the file short).
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

await yargs(argv)
  .scriptName('stream-sr')
  .usage('$0 -i INPUT -o OUTPUT [options]\n\nCausal video super-resolution between a decoder and an encoder.')
  .command(upscaleCommand)
  .command(modelsCommand)
  .command(runCommand)
  .command(serveCommand)
  .command(evalCommand)
  .command(framesCommand)
  .command(workerCommand)
  .command(submitCommand)
  .command(jobsCommand)
  .strict()
  .fail((msg, err, y) => {
    // a command's own failure goes on up; yargs' parse errors (YError: an option missing its value) are usage errors
    if (err && err.name !== 'YError') throw err;
    process.stderr.write(`stream-sr: ${oneLine(msg ?? err?.message ?? '')}\n(see stream-sr --help)\n`);
    void y;
    process.exit(2);
  })
  .help()
  .alias('help', 'h')
  .version()
  .wrap(Math.min(110, process.stderr.columns || 100))
  .parseAsync();

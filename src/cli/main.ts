#!/usr/bin/env node
import { createRequire } from 'node:module';
import type yargsEsm from 'yargs';
import { hideBin } from 'yargs/helpers';
import { normaliseArgv } from './common-options.js';
import { UsageError } from '../core/errors.js';
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
 * auto, fp32, int8`, as our own option errors read (a positional's value is quoted instead),
 * "Not enough arguments following: precision" becomes `--precision: needs a value`, and an unknown
 * `--foo-bar` is named once, as typed.
 */
function oneLine(msg: string, argv: readonly string[]): string {
  const flag = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const typed = (key: string): boolean => argv.some((a) => a === `--${flag(key)}` || a.startsWith(`--${flag(key)}=`) || a === `-${key}`);
  const unknown = /^Unknown arguments?: (.*)$/s.exec(msg.trim());
  if (unknown) {
    // yargs names an unknown --foo-bar twice (foo-bar, fooBar); a positional it did not expect, bare
    const names = unknown[1]!.split(',').map((n) => n.trim());
    const shown = names.filter((n) => !(/[A-Z]/.test(n) && names.includes(flag(n)))).map((n) => (typed(n) ? `${n.length === 1 ? '-' : '--'}${n}` : `'${n}'`));
    return `unknown ${shown.length === 1 ? 'argument' : 'arguments'}: ${shown.join(', ')}`;
  }
  const choice = msg.split('Argument:').length === 2 ? /^Invalid values:\s*Argument: ([\w-]+), Given: (.*), Choices: (.*)$/s.exec(msg.trim()) : null;
  const bare = /^Not enough arguments following: ([\w-]+)$/.exec(msg.trim());
  if (bare) return `--${flag(bare[1]!)}: needs a value`;
  if (choice) {
    // a positional (models bogus) is quoted as typed, not named as an option
    const value = choice[2]!.trim().replace(/^"(.*)"$/, '$1');
    const at = argv.indexOf(value);
    const positional = !typed(choice[1]!) && at >= 0 && !argv[at - 1]?.startsWith('-');
    const what = positional ? `'${value}'` : `--${flag(choice[1]!)} ${value}`;
    return `${what}: not one of ${choice[3]!.trim().replace(/"/g, '').replace(/\s*\n\s*/g, ' ')}`;
  }
  return msg.replace(/\s*\n\s*/g, ' ');
}

/**
 * An option given twice where it takes one value (`-i a -i b`, `-f nut -f y4m`): yargs would make it
 * an array, which no command expects. ffmpeg would open two inputs or take the last; here it is a
 * usage error that names both. Options declared as lists (`array`) are left alone, and the upscale
 * command counts its outputs itself (`-o x -o y`, `-o x y`).
 */
function refuseRepeated(args: Record<string, unknown>, options: { readonly array: readonly string[] }): true {
  for (const [key, value] of Object.entries(args)) {
    // aliases (one letter) and camelCase copies carry the same array as the long name
    if (!Array.isArray(value) || key === '_' || key.length === 1 || /[A-Z]/.test(key) || options.array.includes(key) || key === 'output' || key === 'out') continue;
    throw new UsageError(`--${key} given ${value.length} times (${value.join(', ')}): give it once`);
  }
  return true;
}

// yargs's ES-module build lays out --help with cliui's stand-in wrapper, which cuts words at the
// column ("encod/er"); its CommonJS build wraps at word boundaries (wrap-ansi)
const require = createRequire(import.meta.url);
const yargs = require('yargs') as typeof yargsEsm;
// our own package.json (dist/src/cli → the root): yargs would look from the working folder up
const { version } = require('../../../package.json') as { version: string };

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
  .check(refuseRepeated as never, true)
  .fail((msg, err, y) => {
    if (err instanceof UsageError) {
      process.stderr.write(`stream-sr: ${err.message}\n`);
      process.exit(2);
    }
    // a command's own failure goes on up; yargs' parse errors (YError: an option missing its value) are usage errors
    if (err && err.name !== 'YError') throw err;
    process.stderr.write(`stream-sr: ${oneLine(msg ?? err?.message ?? '', argv)}\n(see stream-sr --help)\n`);
    void y;
    process.exit(2);
  })
  .help()
  .alias('help', 'h')
  .version(version)
  .wrap(Math.min(110, process.stderr.columns || 100))
  .parseAsync();

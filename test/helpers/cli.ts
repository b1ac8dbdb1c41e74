import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './media.js';

export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], opts: { input?: Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 30,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Starts the built CLI and returns the child to talk to (signals, pipes). */
export function startCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs a shell pipeline (for ffmpeg | stream-sr | ffmpeg), returning its exit status and output. */
export function shell(script: string): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd: ROOT, maxBuffer: 1 << 30, env: { ...process.env, CLI: `${process.execPath} ${CLI}` } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs the built CLI without blocking the event loop (for tests that serve it from this process). */
export function runCliAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = startCli(args, opts);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr })));
}

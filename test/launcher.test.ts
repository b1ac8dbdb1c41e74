import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { ROOT } from './helpers/media.js';

const LAUNCHER = join(ROOT, 'src', 'cli', 'stream-sr');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

t.test('the stream-sr launcher passes arguments, output and exit codes through', async (t) => {
  const v = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8' });
  t.equal(v.status, 0);
  t.equal(v.stdout.trim(), version);
  const elsewhere = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8', cwd: '/' });
  t.equal(elsewhere.stdout.trim(), version, 'the version from any working folder (not the nearest package.json)');
  const bad = spawnSync(LAUNCHER, ['-i', '/nonexistent/in.mkv', '-o', '/tmp/never.mkv'], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /\/nonexistent\/in\.mkv/);
  t.equal(bad.stdout, '', 'nothing on stdout');
});

/** The environment of the node process the launcher became (exec keeps the pid), while it waits on stdin. */
async function launchedEnv(env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const child = spawn(LAUNCHER, ['-i', '-', '-o', '-', '-f', 'nut'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    for (let i = 0; i < 100; i++) {
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      if (cmdline.includes('main.js')) {
        const entries = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
        return new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      }
      await sleep(50);
    }
    throw new Error('the launcher never exec-ed node');
  } finally {
    child.kill('SIGKILL');
  }
}

t.test("the launcher sets glibc's malloc thresholds for frame-sized buffers, unless the user set them", async (t) => {
  const { GLIBC_TUNABLES: _t, MALLOC_MMAP_THRESHOLD_: _m, MALLOC_TRIM_THRESHOLD_: _r, ...base } = process.env;
  const own = await launchedEnv(base);
  t.same([own.get('MALLOC_MMAP_THRESHOLD_'), own.get('MALLOC_TRIM_THRESHOLD_')], ['33554432', '134217728']);
  const mine = await launchedEnv({ ...base, MALLOC_MMAP_THRESHOLD_: '65536' });
  t.same([mine.get('MALLOC_MMAP_THRESHOLD_'), mine.get('MALLOC_TRIM_THRESHOLD_')], ['65536', '134217728'], "the user's own threshold wins");
  const tuned = await launchedEnv({ ...base, GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' });
  t.same([tuned.get('MALLOC_MMAP_THRESHOLD_'), tuned.get('MALLOC_TRIM_THRESHOLD_')], [undefined, undefined], 'a user who tunes malloc through GLIBC_TUNABLES gets exactly that');
});

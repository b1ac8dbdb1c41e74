import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/media.js';

/** The malloc settings the `stream-sr` launcher runs node with: measure the process users run. */
const launcher = readFileSync(join(ROOT, 'src', 'cli', 'stream-sr'), 'utf8');
const LAUNCHER_MALLOC = {
  MALLOC_MMAP_THRESHOLD_: /MALLOC_MMAP_THRESHOLD_:=(\d+)/.exec(launcher)?.[1],
  MALLOC_TRIM_THRESHOLD_: /MALLOC_TRIM_THRESHOLD_:=(\d+)/.exec(launcher)?.[1],
};

/** RSS moves by tens of MB as ORT's output buffers come and go: compare the highest of 5 frames. */
const WINDOW = (end: number) => [end - 4, end - 3, end - 2, end - 1, end];

// 300 frames at 720p output take about 4 minutes on a busy 2-core machine: extend the file's timeout.
t.setTimeout(1_800_000);

// 300 frames at 720p output (LR 320x180) through the whole runtime on its default path (the
// per-frame graph), on interface graphs with few channels so that the test measures the runtime's
// own memory rather than the graphs' compute.
t.test('constant memory: RSS after 300 frames at 720p is within 10% of RSS after 30', { timeout: 900_000 }, async (t) => {
  t.ok(LAUNCHER_MALLOC.MALLOC_MMAP_THRESHOLD_ && LAUNCHER_MALLOC.MALLOC_TRIM_THRESHOLD_, `the launcher sets ${JSON.stringify(LAUNCHER_MALLOC)}`);
  const bench = join(ROOT, 'dist', 'src', 'bench', 'diffvsr-bench.js');
  const r = spawnSync('nice', ['-n', '10', process.execPath, '--expose-gc', bench, '--frames', '300', '--channels', 'small', '--path', 'frame', '--rss-at', [...WINDOW(30), 100, 200, ...WINDOW(300)].join(',')], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...LAUNCHER_MALLOC },
  });
  t.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { hr: number[]; gcExposed: boolean; paths: { frame: { sessionRunsPerFrame: number; rssMbAfterFrames: Record<string, number> } } };
  t.same(result.hr, [720, 1280], 'output frames are 720p');
  t.ok(result.gcExposed, 'RSS is read after a full GC');
  t.equal(result.paths.frame.sessionRunsPerFrame, 1, 'the per-frame graph ran: one session run per frame');
  const rss = result.paths.frame.rssMbAfterFrames;
  const peak = (end: number) => Math.max(...WINDOW(end).map((f) => rss[String(f)]!));
  t.ok(peak(300) <= 1.1 * peak(30), `RSS (highest of frames 26-30 / 100 / 200 / highest of 296-300): ${peak(30)} / ${rss['100']} / ${rss['200']} / ${peak(300)} MB`);
});

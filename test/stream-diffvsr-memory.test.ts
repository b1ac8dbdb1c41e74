import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './helpers/media.js';

// 300 frames at 720p output (LR 320x180) through the whole runtime, on interface graphs with few
// channels so that the test measures the runtime's own memory rather than the graphs' compute.
t.test('constant memory: RSS after 300 frames at 720p is within 10% of RSS after 30', { timeout: 900_000 }, async (t) => {
  const bench = join(ROOT, 'dist', 'src', 'bench', 'diffvsr-bench.js');
  const r = spawnSync('nice', ['-n', '10', process.execPath, '--expose-gc', bench, '--frames', '300', '--channels', 'small', '--rss-at', '30,100,200,300'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  t.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { hr: number[]; gcExposed: boolean; rssMbAfterFrames: Record<string, number> };
  t.same(result.hr, [720, 1280], 'output frames are 720p');
  t.ok(result.gcExposed, 'RSS is read after a full GC');
  const rss = result.rssMbAfterFrames;
  t.ok(rss['300']! <= 1.1 * rss['30']!, `RSS after 30 / 100 / 200 / 300 frames: ${rss['30']} / ${rss['100']} / ${rss['200']} / ${rss['300']} MB`);
});

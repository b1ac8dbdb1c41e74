// Inputs that fail to open must end in a clear error, never a native crash. beamcoder 0.7.1 stored
// napi_queue_async_work's result in the carrier's status after queuing the work, so a worker thread
// that had already failed the open (a fast failure: a text .mp4, a refused connection) saw its error
// overwritten with "ok" and demuxerComplete wrapped a null AVFormatContext: SIGSEGV, 2 in 50 single
// runs and about 40% with three runs in parallel. patches/beamcoder+0.7.1.patch fixes the binding.
// The crash was a race, so each case runs many times, several at once.
import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInput } from '../src/av/input.js';
import { runCliAsync } from './helpers/cli.js';
import { ROOT } from './helpers/media.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-native-crash-'));
const textMp4 = join(tmp, 'text.mp4');
writeFileSync(textMp4, 'this is not a video, just some words\n'.repeat(20));
const truncated = join(tmp, 'truncated.mp4');
// the sample's moov atom is at its end: the first 20 kB hold media data only
writeFileSync(truncated, readFileSync(join(ROOT, 'samples', 'sample-320x180.mp4')).subarray(0, 20000));
const concatList = join(tmp, 'list.txt');
writeFileSync(concatList, "file 'missing-file.mp4'\n");

interface BadInput {
  readonly name: string;
  readonly args: string[];
  readonly url: string;
  readonly format?: string;
  readonly reason: RegExp;
}

const badInputs: BadInput[] = [
  { name: 'a text .mp4', args: ['-i', textMp4], url: textMp4, reason: /Invalid data found/ },
  { name: 'a truncated mp4', args: ['-i', truncated], url: truncated, reason: /Invalid data found/ },
  { name: 'a refused http URL', args: ['-i', 'http://127.0.0.1:1/x.mp4'], url: 'http://127.0.0.1:1/x.mp4', reason: /Connection refused/ },
  {
    name: 'a concat list naming a missing file',
    args: ['-i', concatList, '--input-format', 'concat'],
    url: concatList,
    format: 'concat',
    reason: /No such file or directory/,
  },
];

const PARALLEL = 3;

t.test('the binding rejects every failed open with its own error (in process, 3 at once)', async (t) => {
  const rounds = 25;
  for (const bad of badInputs) {
    const reasons = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      const opens = Array.from({ length: PARALLEL }, () =>
        openInput({ url: bad.url, label: bad.name, ...(bad.format ? { format: bad.format } : {}) }).then(
          () => 'opened',
          (err: Error) => err.message,
        ),
      );
      for (const reason of await Promise.all(opens)) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const seen = [...reasons.keys()];
    t.equal(seen.length, 1, `${bad.name}: one outcome in ${rounds * PARALLEL} opens: ${JSON.stringify(Object.fromEntries(reasons))}`);
    t.match(seen[0], bad.reason, `${bad.name}: FFmpeg's reason`);
  }
});

t.test('the CLI exits 2 with a message on every failed open, never natively (3 runs at once)', async (t) => {
  const rounds = 2;
  const cwd = mkdtempSync(join(tmp, 'cwd-'));
  for (const bad of badInputs) {
    for (let r = 0; r < rounds; r++) {
      const runs = await Promise.all(
        Array.from({ length: PARALLEL }, (_, k) =>
          runCliAsync([...bad.args, '-o', join(tmp, `out-${r}-${k}.mkv`), '-y', '-m', 'bicubic'], { cwd }),
        ),
      );
      for (const run of runs) {
        t.equal(run.signal, null, `${bad.name}: no signal`);
        t.ok(run.code !== null && run.code < 128, `${bad.name}: exit ${run.code} is not a crash`);
        t.equal(run.code, 2, `${bad.name}: exit 2 (bad input)`);
        const last = run.stderr.trim().split('\n').at(-1) ?? '';
        t.match(last, bad.reason, `${bad.name}: the last line gives the reason: ${last}`);
      }
    }
  }
  t.notOk(existsSync(join(cwd, 'crash.log')), "no crash.log left in the user's directory");
});

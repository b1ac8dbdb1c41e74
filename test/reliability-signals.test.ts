// The reliability matrix, signals and pipes: SIGINT, SIGTERM, a second SIGINT and SIGKILL into
// Matroska; a stop before the first frame; a reader that closes the pipe; a slow reader, with the
// input bound (frames in flight) and RSS measured on a long clip with real decoding and encoding.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { clips } from './helpers/media.js';
import { shell, startCli } from './helpers/cli.js';
import { framesReported, nativeCrash, outputState, ownMessages } from './helpers/reliability.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-reliability-signals-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** ms from the last signal sent to the exit */
  readonly exitAfterMs: number;
}

/** Starts the CLI, waits until `ready` matches its stderr (or `afterMs`), sends the signals `gapMs` apart. */
async function interrupt(args: string[], signals: NodeJS.Signals[], opts: { ready?: RegExp; afterMs?: number; gapMs?: number } = {}): Promise<Run> {
  const child = startCli(args);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  if (opts.ready) {
    const started = Date.now();
    while (!opts.ready.test(stderr) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
  }
  if (opts.afterMs) await new Promise((r) => setTimeout(r, opts.afterMs));
  let last = Date.now();
  for (const [i, s] of signals.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, opts.gapMs ?? 300));
    last = Date.now();
    child.kill(s);
  }
  // a run that ignores the signals is a failure, not a test that hangs for minutes
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const { code, signal } = await exited;
  clearTimeout(guard);
  return { code, signal, stderr, exitAfterMs: Date.now() - last };
}

// 300 frames, 320x180 x2, 40 ms of injected delay per frame: about 15 s if left alone
const LONG = ['-i', clips.long(), '--model', 'bicubic', '--scale', '2', '--inject', 'delayMs=40', '-v'];
// the progress line counts frames; the first frame written means the output is open and playing
const WRITING = /frame=\s*[1-9]/;

for (const [signal, expected] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`${signal} into mkv: exit ${expected}, a playable file with every frame reported`, async (t) => {
    const out = join(tmp, `${signal}.mkv`);
    const r = await interrupt([...LONG, '-o', out], [signal], { ready: WRITING, afterMs: 500 });
    t.notOk(nativeCrash(r, signal));
    t.equal(r.code, expected);
    const state = outputState(out);
    t.ok(state.readable, 'ffprobe reads it');
    t.equal(state.frames, framesReported(r.stderr), `ffmpeg decodes the ${framesReported(r.stderr)} frames reported`);
    t.ok(state.frames > 0 && state.frames < 300, `stopped early (${state.frames} frames)`);
  });
}

t.test('a second SIGINT through the CLI stops at once: exit 130, still a playable file', async (t) => {
  const out = join(tmp, 'twice.mkv');
  // a model that takes 4 s per frame: finishing the frames in flight would take seconds
  const r = await interrupt(['-i', clips.long(), '--model', 'bicubic', '--scale', '2', '--inject', 'modelDelayMs=4000', '-v', '-o', out], ['SIGINT', 'SIGINT'], { ready: WRITING, afterMs: 200, gapMs: 100 });
  t.notOk(nativeCrash(r, 'SIGINT'));
  t.equal(r.code, 130);
  t.ok(r.exitAfterMs < 2500, `exited ${r.exitAfterMs} ms after the second SIGINT, without waiting for the frame in the model`);
  t.match(r.stderr, /again to stop at once/);
  const state = outputState(out);
  t.ok(state.readable, 'ffprobe reads it');
  t.equal(state.frames, framesReported(r.stderr), 'every frame reported is in the file');
});

t.test('SIGKILL into mkv: no trailer, but what was written reads', async (t) => {
  const out = join(tmp, 'killed.mkv');
  const r = await interrupt([...LONG, '-o', out, '-c:v', 'ffv1'], ['SIGKILL'], { ready: /frame=\s*[2-9]\d/ });
  t.equal(r.signal, 'SIGKILL');
  const state = outputState(out);
  t.ok(state.readable, 'ffprobe reads the Matroska written so far');
  t.ok(state.frames > 0, `${state.frames} frames decode`);
});

t.test('a stop before the first frame: exit 143, no file left, said', async (t) => {
  const out = join(tmp, 'early.mkv');
  // the model holds the first frame for 3 s; the output is open but has no frame yet
  const r = await interrupt(['-i', clips.small(), '--model', 'bicubic', '--inject', 'modelDelayMs=3000', '-v', '-o', out], ['SIGTERM', 'SIGTERM'], { ready: /→ .*early\.mkv/, afterMs: 300, gapMs: 100 });
  t.notOk(nativeCrash(r, 'SIGTERM'));
  t.equal(r.code, 143);
  t.match(r.stderr, /early\.mkv: stopped before the first frame; no file written/);
  t.notOk(existsSync(out), 'no unplayable file left');
});

t.test('a reader that closes the pipe (EPIPE): exit 0, no message, no crash', async (t) => {
  const r = shell(`$CLI -i ${clips.long()} -o - -f nut -q --scale 2 --model bicubic | head -c 20000 > /dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`);
  t.match(r.stderr, /exit=0/);
  t.same(ownMessages(r.stderr), [], 'nothing said');
  t.notMatch(r.stderr, /SIGSEGV|Segmentation/);
});

t.test('a reader that closes stderr: the run goes on, exit 0, every frame written', async (t) => {
  const out = join(tmp, 'stderr-closed.mkv');
  // the progress line keeps writing to the closed pipe: EPIPE on stderr must not end the run
  const r = shell(`$CLI -i ${clips.long()} -o ${out} -c:v ffv1 --scale 2 --model bicubic 2>&1 | head -c 10 > /dev/null; echo "exit=\${PIPESTATUS[0]}"`);
  t.match(r.stdout.toString(), /exit=0/);
  const frames = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-select_streams', 'v', '-of', 'csv=p=0', out], { encoding: 'utf8' }).trim();
  t.equal(frames, '300', 'all 300 frames of the clip in a file ffprobe reads to the end');
});

t.test('a slow reader on a long clip: frames in flight bounded, RSS level', async (t) => {
  // real decoding and encoding, 300 frames 320x180 → 640x360 y4m (345 KB a frame) read at about
  // 4 MB/s: the run waits on the reader, so everything upstream must wait too
  const child = startCli(['-i', clips.long(), '--model', 'bicubic', '--scale', '2', '-o', '-', '-f', 'y4m', '-v', '-q', '--max-in-flight', '2']);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let bytes = 0;
  const rss: Array<{ bytes: number; kb: number }> = [];
  const sampler = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      if (kb) rss.push({ bytes, kb });
    } catch {
      // exited
    }
  }, 200);
  child.stdout.on('data', (d: Buffer) => {
    bytes += d.length;
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), Math.ceil(d.length / 4000));
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(sampler);
  t.equal(code, 0, stderr);
  const frameBytes = 640 * 360 * 1.5 + 6;
  t.ok(Math.abs(bytes / frameBytes - 300) < 1, `all 300 frames read (${(bytes / 1e6).toFixed(1)} MB)`);
  const peak = Number(/at most (\d+) frames in flight/.exec(stderr)?.[1]);
  t.ok(peak >= 1 && peak <= 2, `at most --max-in-flight frames between decoder and encoder (${peak})`);
  const early = rss.filter((s) => s.bytes > 30 * frameBytes && s.bytes < 100 * frameBytes).map((s) => s.kb);
  const late = rss.filter((s) => s.bytes > 200 * frameBytes).map((s) => s.kb);
  t.ok(early.length > 0 && late.length > 0, `RSS sampled early and late (${rss.length} samples)`);
  const maxEarly = Math.max(...early);
  const maxLate = Math.max(...late);
  t.ok(maxLate < maxEarly + 40_000, `RSS level: ${Math.round(maxEarly / 1024)} MB after ~50 frames, ${Math.round(maxLate / 1024)} MB after 200+`);
  t.ok(maxLate < 400_000, `RSS under 400 MB (${Math.round(maxLate / 1024)} MB)`);
  t.comment(`slow reader: ${rss.length} samples, RSS ${Math.round(Math.min(...rss.map((s) => s.kb)) / 1024)}..${Math.round(Math.max(...rss.map((s) => s.kb)) / 1024)} MB, peak in flight ${peak}`);
});

// SIGTERM on a live run: every frame it says it wrote arrives (SRT keeps the connection open until
// the receiver has delivered the last packets), and frames still waiting under --live-policy queue
// are counted as dropped, so "N in, N written, N dropped" adds up.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI } from './helpers/cli.js';
import { probeJson } from './helpers/media.js';
import { ffmpegReceiver, freePort, Managed, startRtspCamera, waitFor } from './helpers/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-live-stop-'));

/** "153 frames written to ... (latency ..., 171 in, 18 dropped)" */
function summary(stderr: string): { written: number; in: number; dropped: number } {
  const m = /(\d+) frames written to .*?(\d+) in, (\d+) dropped/.exec(stderr);
  if (!m) throw new Error(`no summary line in: ${stderr.slice(-1500)}`);
  return { written: Number(m[1]), in: Number(m[2]), dropped: Number(m[3]) };
}

function countFrames(path: string): number {
  const j = probeJson(path, ['-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames']) as { streams: Array<{ nb_read_frames: string }> };
  return Number(j.streams[0]?.nb_read_frames ?? 0);
}

/** The exit code, or 'still running' after `ms` (a run that does not give up). */
function exitWithin(run: Managed, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([run.exit, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);
}

/** Runs stream-sr on the camera, lets it write for a while, then sends SIGTERM. */
async function runAndTerminate(t: Tap.Test, args: string[], writeMs: number): Promise<{ code: number | null; stderr: string }> {
  const sr = new Managed('stream-sr', process.execPath, [CLI, ...args]);
  t.teardown(() => sr.stop('SIGKILL'));
  await sr.ready(/ → .* → /, 60000); // the line describing the negotiated pipeline
  await new Promise((r) => setTimeout(r, writeMs));
  sr.child.kill('SIGTERM');
  const code = await sr.exit;
  return { code, stderr: sr.output };
}

t.test('SIGTERM: an SRT receiver gets every frame the summary counts', async (t) => {
  const cam = await startRtspCamera({ audio: false });
  t.teardown(() => cam.server.stop());
  const port = await freePort('udp');
  const received = join(tmp, 'srt.ts');
  const receiver = ffmpegReceiver(['-i', `srt://127.0.0.1:${port}?mode=listener`, '-c', 'copy', '-f', 'mpegts', received]);
  t.teardown(() => receiver.stop('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500));
  const run = await runAndTerminate(t, ['-i', cam.url, '-o', `srt://127.0.0.1:${port}`, '-m', 'bicubic', '--scale', '2'], 3000);
  t.equal(run.code, 143, 'SIGTERM: exit 143');
  const s = summary(run.stderr);
  await waitFor(() => receiver.exited, 10000, 'the receiver to see the end of the stream').catch(() => receiver.stop('SIGINT'));
  t.ok(s.written > 20, `${s.written} frames written`);
  t.equal(countFrames(received), s.written, 'the receiver decoded as many frames as were written');
  t.equal(s.in, s.written + s.dropped, `${s.in} in = ${s.written} written + ${s.dropped} dropped`);
});

t.test('SIGTERM under --live-policy queue: waiting frames are counted as dropped', async (t) => {
  const cam = await startRtspCamera({ audio: false });
  t.teardown(() => cam.server.stop());
  const out = join(tmp, 'queue.mkv');
  // a model slower than the camera (150 ms a frame against 40 ms), so frames wait in the queue
  const run = await runAndTerminate(t, ['-i', cam.url, '-o', out, '-m', 'bicubic', '--scale', '2', '--live-policy', 'queue', '--max-queue', '400', '--inject', 'modelDelayMs=150'], 3000);
  t.equal(run.code, 143, 'SIGTERM: exit 143');
  const s = summary(run.stderr);
  t.ok(s.dropped > 0, `frames were waiting when it stopped (${s.dropped} dropped)`);
  t.equal(s.in, s.written + s.dropped, `${s.in} in = ${s.written} written + ${s.dropped} dropped`);
  t.equal(countFrames(out), s.written, 'the file holds the frames the summary says were written');
});

t.test('--reconnect-attempts: a source that never answers gives up with exit 1 and writes nothing', async (t) => {
  const port = await freePort();
  const out = join(tmp, 'never.mkv');
  const run = new Managed('stream-sr', process.execPath, [CLI, '-i', `rtsp://127.0.0.1:${port}/cam`, '-o', out, '-m', 'bicubic', '--reconnect-attempts', '2', '--reconnect-delay', '100']);
  t.teardown(() => run.stop('SIGKILL'));
  t.equal(await exitWithin(run, 20000), 1, 'a runtime failure: exit 1');
  t.match(run.output, /input 'rtsp:\/\/127\.0\.0\.1:\d+\/cam': gave up after 2 reconnect attempts: connection refused/);
  t.equal((run.output.match(/retrying in/g) ?? []).length, 2, 'after two retries');
  t.notOk(existsSync(out), 'no output file');
});

t.test('--reconnect-attempts: a camera lost mid-run gives up, and the file written so far is finalized', async (t) => {
  const cam = await startRtspCamera({ audio: false });
  t.teardown(() => cam.server.stop());
  const out = join(tmp, 'lost.mkv');
  const sr = new Managed('stream-sr', process.execPath, [CLI, '-i', cam.url, '-o', out, '-m', 'bicubic', '--scale', '2', '--reconnect-attempts', '2', '--reconnect-delay', '100', '--read-timeout', '1000']);
  t.teardown(() => sr.stop('SIGKILL'));
  await sr.ready(/ → .* → /, 60000);
  await new Promise((r) => setTimeout(r, 2000));
  await cam.server.stop('SIGKILL');
  const t0 = Date.now();
  t.equal(await exitWithin(sr, 20000), 1, 'exit 1');
  t.ok(Date.now() - t0 < 20000, `gave up after ${Date.now() - t0} ms`);
  t.match(sr.output, /error in source: input '.*': gave up after 2 reconnect attempts: connection refused/);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:v:0', '-f', 'framecrc', '-'], { encoding: 'utf8' });
  const frames = decode.stdout.split('\n').filter((l) => /^\d+,/.test(l)).length;
  t.ok(decode.status === 0 && decode.stderr === '' && frames > 10, `the file written so far is finalized: ffmpeg exit ${decode.status}, ${frames} frames, errors: ${JSON.stringify(decode.stderr.slice(0, 200))}`);
});

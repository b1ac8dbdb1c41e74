// The service when things go wrong: a worker killed with -9 (the other pipeline keeps going, the HLS
// output continues its sequence, timestamps and segment names across the restart and marks the
// seam), a camera that is down (the API says `reconnecting` with the error), a finished batch job
// started again (refused, its output kept), and requests a client can get wrong.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { CLI } from './helpers/cli.js';
import { clips, probeJson, probeVideoFrames } from './helpers/media.js';
import { freePort, Managed, startRtspCamera, waitFor } from './helpers/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-service-restart-'));

interface View {
  id: string;
  state: string;
  framesOut: number;
  restarts: number;
  reconnects: number;
  pid: number | null;
  lastError: { message: string; at: string } | null;
}

async function request(base: string, path: string, method = 'GET'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(base + path, { method });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function views(base: string): Promise<Map<string, View>> {
  return new Map(((await request(base, '/pipelines')).body as View[]).map((v) => [v.id, v]));
}

/** The playlist's media sequence and segment names, in order. */
function playlist(path: string): { sequence: number; segments: string[]; discontinuities: number; text: string } {
  const text = readFileSync(path, 'utf8');
  return {
    sequence: Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN),
    segments: text.split('\n').filter((l) => l.endsWith('.ts')),
    discontinuities: (text.match(/#EXT-X-DISCONTINUITY/g) ?? []).length,
    text,
  };
}

t.test('serve: kill -9 of one worker, a camera that is down, a finished batch job started again', async (t) => {
  let cam = await startRtspCamera({ audio: false });
  const camPort = cam.port;
  t.teardown(() => cam.server.stop());
  const hlsDir = join(tmp, 'hls');
  const recDir = join(tmp, 'rec');
  const batchOut = join(tmp, 'batch.mkv');
  const reconnect = 'readTimeoutMs: 1500, reconnect: { initialDelayMs: 300, maxDelayMs: 600 }';
  writeFileSync(join(tmp, 'hls.yaml'), `id: hls\nsource: { url: '${cam.url}', ${reconnect} }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${hlsDir}/index.m3u8', hls: { segmentSeconds: 1, listSize: 30 } } ]\nrestart: { initialDelayMs: 200, maxDelayMs: 400 }\n`);
  writeFileSync(join(tmp, 'rec.yaml'), `id: rec\nsource: { url: '${cam.url}', ${reconnect} }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${recDir}/part-%Y%m%d-%H%M%S.mkv', segmentSeconds: 2 } ]\n`);
  writeFileSync(join(tmp, 'batch.yaml'), `id: batch\nsource: { url: '${clips.small()}' }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${batchOut}' } ]\n`);
  // a camera that is down from the start
  const deadPort = await freePort();
  writeFileSync(join(tmp, 'nocam.yaml'), `id: nocam\nsource: { url: 'rtsp://127.0.0.1:${deadPort}/cam', ${reconnect} }\nmodel: { id: bicubic, scale: 2 }\nsinks: [ { url: '${tmp}/nocam/index.m3u8' } ]\n`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = new Managed('serve', process.execPath, [CLI, 'serve', join(tmp, 'hls.yaml'), join(tmp, 'rec.yaml'), join(tmp, 'batch.yaml'), join(tmp, 'nocam.yaml'), '--listen', `127.0.0.1:${port}`]);
  t.teardown(() => serve.stop('SIGKILL'));
  await serve.ready(/API on http:\/\/127\.0\.0\.1:\d+/, 20000);

  // requests a client can get wrong
  const head = await fetch(`${base}/health`, { method: 'HEAD' });
  t.equal(head.status, 200, 'HEAD /health: 200');
  t.equal((await head.text()).length, 0, 'and no body');
  const badEscape = await request(base, '/pipelines/%E0%A4%A');
  t.equal(badEscape.status, 400, 'a malformed percent-escape in an id: 400');
  t.match(badEscape.body, { error: /malformed percent-escape/ });
  t.equal((await request(base, '/pipelines/%E0%A4%A/start', 'POST')).status, 400, 'also on an action');

  await waitFor(async () => (await views(base)).get('nocam')?.state === 'reconnecting', 20000, 'the pipeline whose camera is down to say reconnecting');
  t.match((await views(base)).get('nocam')!.lastError?.message, /connection refused/, 'with the reason, before it ever connected');

  // a finished batch job: started again, it must not replace its output
  await waitFor(async () => (await views(base)).get('batch')?.state === 'completed', 60000, 'the batch job to complete');
  const finished = readFileSync(batchOut);
  const finishedAt = statSync(batchOut).mtimeMs;
  const again = await request(base, '/pipelines/batch/start', 'POST');
  t.equal(again.status, 409, 'POST /start on a completed job whose output exists: 409');
  t.match(again.body, { error: /output '.*batch\.mkv' already exists; set overwrite: true in the pipeline file/ });
  await new Promise((r) => setTimeout(r, 500));
  // bicubic output is deterministic, so compare the write time as well as the bytes
  t.ok(readFileSync(batchOut).equals(finished) && statSync(batchOut).mtimeMs === finishedAt, 'the finished output is untouched');
  t.equal(probeVideoFrames(batchOut).length, 10, 'and still has its 10 frames');

  await waitFor(async () => {
    const v = await views(base);
    return (v.get('hls')?.framesOut ?? 0) > 60 && (v.get('rec')?.framesOut ?? 0) > 20;
  }, 60000, 'both live pipelines to write frames');

  // worker isolation: kill -9 the HLS pipeline's worker; the recording goes on
  const hlsBefore = (await views(base)).get('hls')!;
  const before = playlist(join(hlsDir, 'index.m3u8'));
  const writtenAt = (s: string): number => statSync(join(hlsDir, s)).mtimeMs;
  const beforeWritten = before.segments.map(writtenAt);
  t.ok(hlsBefore.pid, `the HLS worker's pid is reported (${hlsBefore.pid})`);
  const recBefore = (await views(base)).get('rec')!.framesOut;
  process.kill(hlsBefore.pid!, 'SIGKILL');
  await waitFor(async () => {
    const v = (await views(base)).get('hls')!;
    return v.restarts >= 1 && v.state === 'running' && v.framesOut > 40;
  }, 60000, 'the HLS pipeline to be restarted and write again');
  const v = await views(base);
  t.match(v.get('hls')!.lastError?.message, /process ended unexpectedly \(signal SIGKILL\)/, 'the kill is the last error');
  t.ok(v.get('rec')!.framesOut > recBefore + 20, `the other pipeline kept going (${recBefore} → ${v.get('rec')!.framesOut})`);
  t.equal(v.get('rec')!.restarts, 0, 'and was not restarted');
  t.equal(v.get('rec')!.state, 'running');
  await new Promise((r) => setTimeout(r, 2500)); // a few segments after the restart

  // the camera is down: the API says so, with the error, and recovers when it is back
  await cam.server.stop('SIGKILL');
  await waitFor(async () => {
    const s = await views(base);
    return s.get('hls')?.state === 'reconnecting' && s.get('rec')?.state === 'reconnecting';
  }, 20000, 'both pipelines to report reconnecting').catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify([...(await views(base)).values()])}`);
  });
  const down = (await views(base)).get('rec')!;
  t.ok(down.lastError && down.lastError.message.length > 0, `while the camera is down the last error says why: ${down.lastError?.message}`);
  cam = await startRtspCamera({ port: camPort, audio: false });
  await waitFor(async () => {
    const s = await views(base);
    return s.get('hls')?.state === 'running' && s.get('rec')?.state === 'running' && (s.get('rec')?.reconnects ?? 0) >= 1;
  }, 60000, 'both pipelines to run again');
  t.pass('both pipelines are running again after the camera came back');

  serve.child.kill('SIGTERM');
  t.equal(await serve.exit, 0, 'SIGTERM drains and exits 0');

  // the HLS output across the worker restart: one playlist, sequence and names continued, seam marked
  const after = playlist(join(hlsDir, 'index.m3u8'));
  t.match(after.text, /#EXT-X-ENDLIST/, 'the playlist is finished');
  t.equal(after.sequence, before.sequence, `MEDIA-SEQUENCE did not start over (${before.sequence} → ${after.sequence})`);
  t.same(after.segments.slice(0, before.segments.length), before.segments, 'the segments from before the kill are still listed, in order');
  t.same(before.segments.map(writtenAt), beforeWritten, 'and were not written again');
  t.ok(after.segments.length > before.segments.length, `the restarted run added segments (${before.segments.length} → ${after.segments.length})`);
  t.equal(new Set(after.segments).size, after.segments.length, 'no segment name is used twice');
  const numbers = after.segments.map((s) => Number(/(\d+)\.ts$/.exec(s)![1]));
  t.ok(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), `segment numbers continue: ${numbers.join(' ')}`);
  t.ok(after.discontinuities >= 1 && after.text.lastIndexOf('#EXT-X-DISCONTINUITY') > after.text.indexOf(before.segments.at(-1)!), 'an #EXT-X-DISCONTINUITY after the last segment from before the kill');
  const frames = probeVideoFrames(join(hlsDir, 'index.m3u8'));
  const backwards = frames.filter((f, i) => i > 0 && f.ptsTime <= frames[i - 1]!.ptsTime).length;
  t.equal(backwards, 0, `timestamps keep increasing across the restart (${frames.length} frames, ${frames.at(-1)?.ptsTime} s)`);

  // %Y%m%d segment names: the date the files were written
  const parts = readdirSync(recDir).filter((f) => f.endsWith('.mkv'));
  t.ok(parts.length >= 2, `recorded parts: ${parts.join(' ')}`);
  for (const f of parts) {
    const m = /^part-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.mkv$/.exec(f);
    t.ok(m, `${f} is named by %Y%m%d-%H%M%S`);
    if (!m) continue;
    const named = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
    const written = statSync(join(recDir, f)).mtimeMs;
    t.ok(Math.abs(written - named) < 120_000, `${f}: named for the local time it was written`);
  }
});

t.test('live encoder settings: zerolatency, no B-frames, a keyframe every second of stream time', async (t) => {
  // 25 fps declared but only every 4th frame kept (as under --live-policy drop): a GOP counted in
  // frames (25) would be 4 s; in time it is 1 s
  const sparse = join(tmp, 'sparse.mkv');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=6', '-vf', "select='not(mod(n\\,4))'", '-fps_mode', 'passthrough', '-c:v', 'ffv1', sparse]);
  const dir = join(tmp, 'gop');
  const run = spawnSync(process.execPath, [CLI, '-i', sparse, '-o', join(dir, 'index.m3u8'), '-m', 'bicubic', '--scale', '2', '-q'], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const { packets } = probeJson(join(dir, 'index.m3u8'), ['-select_streams', 'v', '-show_entries', 'packet=pts_time,flags']) as { packets: Array<{ pts_time: string; flags: string }> };
  const keys = packets.filter((p) => p.flags.startsWith('K')).map((p) => Number(p.pts_time));
  const gaps = keys.slice(1).map((k, i) => k - keys[i]!);
  t.ok(keys.length >= 5, `keyframes at ${keys.join(', ')} s`);
  t.ok(gaps.every((g) => g <= 1.0 + 0.16 + 1e-6), `no keyframe gap longer than a second plus one frame (${gaps.map((g) => g.toFixed(2)).join(', ')})`);
  // so HLS can cut near --hls-time (2 s by default): every segment but the last is 2 s plus a frame at most
  const durations = [...readFileSync(join(dir, 'index.m3u8'), 'utf8').matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  t.ok(durations.slice(0, -1).every((d) => d <= 2 + 0.16 + 1e-6), `segments of ${durations.join(', ')} s`);
  const types = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pict_type', '-of', 'csv=p=0', join(dir, 'index.m3u8')], { encoding: 'utf8' });
  t.notMatch(types, /B/, 'no B-frames');
  // x264 writes its settings into the stream (an SEI message): read them from the raw H.264
  const h264 = execFileSync('ffmpeg', ['-v', 'error', '-i', join(dir, 'index.m3u8'), '-map', '0:v', '-c', 'copy', '-f', 'h264', '-'], { maxBuffer: 64 << 20 });
  const x264 = /x264 - core[^\0]*/.exec(h264.toString('latin1'))?.[0] ?? '';
  t.match(x264, /mbtree=0 /, "x264's own settings: no macroblock-tree look-ahead (zerolatency)");
  t.match(x264, /bframes=0 /, 'and no B-frames');
  t.match(x264, /sliced_threads=1 /, 'and sliced threads (zerolatency)');
});

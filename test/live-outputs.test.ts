import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeStreams, probeVideoFrames } from './helpers/media.js';
import { runCliAsync } from './helpers/live-cli.js';
import { CLI } from './helpers/cli.js';
import { ffmpegReceiver, freePort, Managed, startNginx, startRtspCamera, startRtspRelay } from './helpers/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-live-out-'));
const FRAMES = 75;

/** The live camera (160x96, 25 fps, AAC) upscaled x2 into `output`, stopping after FRAMES frames. */
async function upscaleCamera(t: Tap.Test, output: string, extra: string[] = []) {
  const cam = await startRtspCamera();
  t.teardown(() => cam.server.stop());
  return runCliAsync(['-i', cam.url, '-o', output, '--model', 'bicubic', '--scale', '2', '--inject', `eosAfter=${FRAMES}`, '-v', ...extra]);
}

function videoOf(path: string) {
  return probeStreams(path).find((s) => s.codec_type === 'video')!;
}

function checkVideo(t: Tap.Test, path: string, minFrames: number) {
  const v = videoOf(path);
  t.same([v.width, v.height], [320, 192], `${path}: 320x192`);
  t.equal(v.r_frame_rate, '25/1', 'frame rate 25');
  const frames = probeVideoFrames(path);
  t.ok(frames.length >= minFrames, `${frames.length} frames read back (at least ${minFrames})`);
  const pts = frames.map((f) => f.ptsTime);
  t.ok(pts.every((p, i) => i === 0 || p > pts[i - 1]!), 'timestamps increase');
}

t.test('HLS: a playlist with a rolling window of segments in a folder, audio kept', async (t) => {
  const playlist = join(tmp, 'hls', 'live.m3u8');
  const r = await upscaleCamera(t, playlist, ['--hls-time', '1', '--hls-list-size', '2']);
  t.equal(r.code, 0, r.stderr);
  const text = readFileSync(playlist, 'utf8');
  const listed = text.split('\n').filter((l) => l.endsWith('.ts'));
  t.equal(listed.length, 2, 'the playlist keeps the last 2 segments');
  const onDisk = readdirSync(join(tmp, 'hls')).filter((f) => f.endsWith('.ts'));
  t.ok(onDisk.length <= 3, `older segments are deleted (${onDisk.join(' ')})`);
  t.match(r.stderr, /\[hls, low latency\]/);
  const v = videoOf(playlist);
  t.same([v.width, v.height, v.r_frame_rate], [320, 192, '25/1']);
  t.ok(probeStreams(playlist).some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'), 'AAC audio passed through');
});

t.test('segmented recording: numbered files of about --segment-time, each playable', async (t) => {
  const pattern = join(tmp, 'rec', 'cam-%03d.mp4');
  const r = await upscaleCamera(t, pattern, ['--segment-time', '1']);
  t.equal(r.code, 0, r.stderr);
  const files = readdirSync(join(tmp, 'rec')).filter((f) => f.endsWith('.mp4')).sort();
  t.ok(files.length >= 2, `several segments (${files.join(' ')})`);
  let total = 0;
  for (const f of files) {
    const frames = probeVideoFrames(join(tmp, 'rec', f));
    total += frames.length;
    const v = videoOf(join(tmp, 'rec', f));
    t.same([v.width, v.height], [320, 192], `${f} is 320x192`);
    // each file's clock starts again at 0; in the first one the first picture may follow the audio
    // by the frames dropped while the model warmed up (the drop policy drops video, never audio)
    t.ok(frames[0] && frames[0].ptsTime < (f === files[0] ? 2 : 0.5), `${f} starts near 0 (${frames[0]?.ptsTime})`);
  }
  t.equal(total, FRAMES, 'every frame is in one of the segments');
  const again = await upscaleCamera(t, pattern, ['--segment-time', '1']);
  t.equal(again.code, 0, again.stderr);
  const after = readdirSync(join(tmp, 'rec')).filter((f) => f.endsWith('.mp4')).sort();
  t.same(after.slice(0, files.length), files, 'a second run adds files after the first run\'s instead of overwriting them');
  t.ok(after.length > files.length);
});

/** stream-sr publishing the camera until stopped; resolves once the output is open. */
async function publish(t: Tap.Test, output: string, extra: string[] = []): Promise<Managed> {
  const cam = await startRtspCamera();
  t.teardown(() => cam.server.stop());
  const publisher = new Managed('stream-sr', process.execPath, [CLI, '-i', cam.url, '-o', output, '--model', 'bicubic', '--scale', '2', '-v', ...extra]);
  t.teardown(() => publisher.stop('SIGINT'));
  await publisher.ready(/low latency\]/, 60000);
  await publisher.ready(/frame=\s*[1-9]/, 30000);
  return publisher;
}

/** ffmpeg plays `seconds` of a live output into a file while stream-sr publishes it. */
async function readBack(t: Tap.Test, args: string[], out: string, seconds = 3): Promise<void> {
  const reader = ffmpegReceiver([...args, '-t', String(seconds), '-c', 'copy', '-f', 'matroska', out]);
  t.teardown(() => reader.stop());
  const code = await Promise.race([reader.exit, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
  t.equal(code, 0, `ffmpeg read the output back: ${reader.output}`);
}

t.test('RTMP publish to nginx-rtmp, played back over RTMP', async (t) => {
  const nginx = await startNginx(join(tmp, 'nginx'));
  t.teardown(() => nginx.server.stop());
  const url = `rtmp://127.0.0.1:${nginx.rtmpPort}/live/sr`;
  const publisher = await publish(t, url);
  const out = join(tmp, 'rtmp.mkv');
  await readBack(t, ['-rw_timeout', '5000000', '-i', url], out);
  checkVideo(t, out, 25);
  await publisher.stop('SIGINT');
  t.match(publisher.output, /frames written to rtmp:/);
});

t.test('SRT publish to an ffmpeg listener (MPEG-TS)', async (t) => {
  const port = await freePort('udp');
  const out = join(tmp, 'srt.ts');
  const reader = ffmpegReceiver(['-i', `srt://127.0.0.1:${port}?mode=listener`, '-c', 'copy', '-f', 'mpegts', out]);
  t.teardown(() => reader.stop());
  await new Promise((r) => setTimeout(r, 500));
  const r = await upscaleCamera(t, `srt://127.0.0.1:${port}`);
  t.equal(r.code, 0, r.stderr);
  await reader.exit;
  checkVideo(t, out, FRAMES - 15);
});

t.test('UDP MPEG-TS to an ffmpeg receiver', async (t) => {
  const port = await freePort('udp');
  const publisher = await publish(t, `udp://127.0.0.1:${port}`);
  const out = join(tmp, 'udp.mkv');
  await readBack(t, ['-timeout', '5000000', '-i', `udp://127.0.0.1:${port}`], out);
  checkVideo(t, out, 25);
  await publisher.stop('SIGINT');
});

t.test('RTSP publish (RTP over UDP) to rtsp-server-perl, played back over RTP/UDP', async (t) => {
  const relay = await startRtspRelay();
  t.teardown(() => relay.server.stop());
  // rtsp-server-perl takes no RTP interleaved in the RTSP connection: publish over UDP
  const publisher = await publish(t, relay.publishUrl('sr'), ['--rtsp-transport', 'udp']);
  const out = join(tmp, 'rtsp.mkv');
  await readBack(t, ['-rtsp_transport', 'udp', '-timeout', '5000000', '-i', relay.playUrl('sr')], out);
  checkVideo(t, out, 25);
  await publisher.stop('SIGINT');
  t.match(publisher.output, /frames written to rtsp:/);
});

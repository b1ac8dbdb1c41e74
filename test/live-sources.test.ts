import t from 'tap';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credit } from '../src/core/credit.js';
import { RunStats } from '../src/core/stats.js';
import { memoryLogger } from '../src/core/log.js';
import type { Frame } from '../src/core/frame.js';
import { LiveSource } from '../src/sources/live-source.js';
import { defaultLiveSettings, type LiveSettings } from '../src/sources/live-options.js';
import { ffmpegFeed, freePort, liveClip, startNginx, startRtspCamera, waitFor } from './helpers/servers.js';
import { existsSync } from 'node:fs';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-live-in-'));

/** Opens a live source and takes `count` frames from it, the way the pipeline does (credit per frame). */
async function take(url: string, count: number, live: Partial<LiveSettings> = {}) {
  const source = new LiveSource({ input: url, live: { ...defaultLiveSettings(), policy: 'queue', ...live }, log: memoryLogger() });
  const info = await source.open();
  const credit = new Credit(2);
  const stats = new RunStats();
  const frames: Frame[] = [];
  let copies = 0;
  try {
    for await (const f of source.frames({ credit, signal: new AbortController().signal, stats, onCopyPacket: () => void copies++ })) {
      frames.push({ ...f, layout: 'rgb-float', rgb: new Float32Array(0) });
      credit.release();
      if (frames.length >= count) break;
    }
  } finally {
    await source.close();
  }
  return { info, frames, copies, stats };
}

function checkFrames(t: Tap.Test, got: Awaited<ReturnType<typeof take>>, width: number, height: number) {
  const { info, frames } = got;
  t.same([info.video.width, info.video.height], [width, height], `negotiated ${width}x${height}`);
  t.ok(frames.every((f) => f.info.width === width && f.info.height === height), 'every frame has that size');
  t.ok(frames.every((f, i) => i === 0 || f.pts > frames[i - 1]!.pts), 'timestamps strictly increase');
  t.ok(frames.every((f, i) => i === 0 || f.index > frames[i - 1]!.index), 'indices increase');
  t.ok(frames.every((f) => typeof f.arrivedAt === 'number'), 'each frame carries its arrival time');
  t.equal(frames[0]!.pts, 0, 'the timeline starts at 0');
  const step = (frames.at(-1)!.pts - frames[0]!.pts) / (frames.length - 1);
  const tb = info.video.timeBase;
  t.ok(Math.abs((step * tb.num) / tb.den - 0.04) < 0.004, `about 40 ms between frames (${((step * tb.num * 1000) / tb.den).toFixed(1)} ms)`);
}

for (const transport of ['tcp', 'udp'] as const) {
  t.test(`rtsp:// over ${transport} (GStreamer RTSP server)`, async (t) => {
    const cam = await startRtspCamera();
    t.teardown(() => cam.server.stop());
    const got = await take(cam.url, 40, { rtspTransport: transport });
    checkFrames(t, got, 160, 96);
    t.ok(got.copies > 0, `AAC audio packets handed to the sink (${got.copies})`);
  });
}

t.test('HLS over http:// (live playlist served by nginx)', async (t) => {
  const nginx = await startNginx(join(tmp, 'nginx-hls'));
  t.teardown(() => nginx.server.stop());
  mkdirSync(join(nginx.root, 'live'), { recursive: true });
  const playlist = join(nginx.root, 'live', 'index.m3u8');
  const feed = ffmpegFeed(liveClip(), ['-c', 'copy', '-f', 'hls', '-hls_time', '1', '-hls_list_size', '4', '-hls_flags', 'delete_segments', playlist]);
  t.teardown(() => feed.stop());
  await waitFor(() => existsSync(playlist), 20000, 'the HLS playlist');
  const got = await take(`http://127.0.0.1:${nginx.httpPort}/live/index.m3u8`, 40);
  checkFrames(t, got, 160, 96);
});

t.test('srt:// (caller, to an ffmpeg SRT listener)', async (t) => {
  const port = await freePort('udp');
  const feed = ffmpegFeed(liveClip(), ['-c', 'copy', '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=listener`]);
  t.teardown(() => feed.stop());
  await new Promise((r) => setTimeout(r, 1000));
  const got = await take(`srt://127.0.0.1:${port}`, 40);
  checkFrames(t, got, 160, 96);
});

t.test('rtmp:// (from nginx-rtmp, fed by ffmpeg)', async (t) => {
  const nginx = await startNginx(join(tmp, 'nginx-rtmp'));
  t.teardown(() => nginx.server.stop());
  const url = `rtmp://127.0.0.1:${nginx.rtmpPort}/live/cam`;
  const feed = ffmpegFeed(liveClip(), ['-c', 'copy', '-f', 'flv', url]);
  t.teardown(() => feed.stop());
  await new Promise((r) => setTimeout(r, 1500));
  const got = await take(url, 40);
  checkFrames(t, got, 160, 96);
});

t.test('udp:// MPEG-TS (stream-sr listens, ffmpeg sends)', async (t) => {
  const port = await freePort('udp');
  const source = take(`udp://127.0.0.1:${port}`, 40);
  await new Promise((r) => setTimeout(r, 300));
  const feed = ffmpegFeed(liveClip(), ['-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
  t.teardown(() => feed.stop());
  checkFrames(t, await source, 160, 96);
});

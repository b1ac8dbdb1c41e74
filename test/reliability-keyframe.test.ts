// The README's promise for live inputs: decoding starts at the first keyframe of the stream. A
// sender that starts in the middle of a GOP (a receiver joining late) must not give frames
// decoded from missing references: the first frame out is the next keyframe's picture. This
// guards the behaviour end to end; it does not isolate live-input's own keyframe gate, because
// FFmpeg's H.264 (and MPEG-2) decoders also hold their output until a keyframe (tried: the test
// still passes with the gate removed).
import t from 'tap';
import { from, lastValueFrom, toArray } from 'rxjs';
import { rgbOf, type Frame } from '../src/core/frame.js';
import { toModelLayout } from '../src/operators/convert-format.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credit } from '../src/core/credit.js';
import { RunStats } from '../src/core/stats.js';
import { memoryLogger } from '../src/core/log.js';
import { LiveSource } from '../src/sources/live-source.js';
import { defaultLiveSettings } from '../src/sources/live-options.js';
import { decodeRgb, ffmpeg, psnrY } from './helpers/media.js';
import { ffmpegFeed, freePort, liveClip } from './helpers/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-keyframe-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('a live stream joined mid-GOP: decoding starts at the next keyframe', async (t) => {
  // 160x96, a keyframe every 25 frames; cut the MPEG-TS at frame 12's packet (the demuxer resyncs).
  const ts = join(tmp, 'clip.ts');
  ffmpeg(['-i', liveClip(), '-map', '0:v', '-c', 'copy', '-f', 'mpegts', ts]);
  const packets = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pos,flags', '-of', 'json', ts], { encoding: 'utf8' })).packets as Array<{ pos: string; flags: string }>;
  t.match(packets[25]?.flags ?? '', /K/, 'frame 25 is a keyframe');
  t.notMatch(packets[12]?.flags ?? '', /K/, 'frame 12 is not');
  const cutAt = Math.floor(Number(packets[12]!.pos) / 188) * 188;
  const cut = join(tmp, 'mid-gop.ts');
  writeFileSync(cut, readFileSync(ts).subarray(cutAt));
  t.ok(statSync(cut).size > 0);

  const port = await freePort('udp');
  const source = new LiveSource({ input: `udp://127.0.0.1:${port}`, live: { ...defaultLiveSettings(), policy: 'queue' }, log: memoryLogger() });
  const opening = source.open();
  await new Promise((r) => setTimeout(r, 300));
  // -copyinkf: ffmpeg itself would otherwise drop the packets before the keyframe when copying
  const feed = ffmpegFeed(cut, ['-copyinkf', '-c', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]);
  t.teardown(() => feed.stop());
  const info = await opening;
  const credit = new Credit(2);
  let firstFrame: Frame | undefined;
  try {
    for await (const f of source.frames({ credit, signal: new AbortController().signal, stats: new RunStats() })) {
      firstFrame = f;
      break;
    }
  } finally {
    await source.close();
  }
  t.ok(firstFrame, 'a frame came');
  // the float RGB a model would get (the same conversion the pipeline makes)
  const toModel = await toModelLayout('rgb-float', info.video, new RunStats());
  const first = rgbOf((await lastValueFrom(from([firstFrame!]).pipe(toModel, toArray())))[0]!);
  const { width, height } = info.video;
  // planar float RGB → packed RGB24, to compare with ffmpeg's own decode of the uncut clip
  const n = width * height;
  const packed = Buffer.alloc(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) packed[3 * p + c] = Math.round(Math.min(1, Math.max(0, first![c * n + p]!)) * 255);
  const reference = decodeRgb(ts).frames.slice(0, 50);
  const scores = reference.map((r) => psnrY(packed, r));
  const best = scores.indexOf(Math.max(...scores));
  t.equal(best, 25, `the first frame out is the keyframe's picture (frame ${best}, ${scores[best]!.toFixed(1)} dB; frame 12: ${scores[12]!.toFixed(1)} dB)`);
});

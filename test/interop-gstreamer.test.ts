import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeVideoFrames, probeStreams } from './helpers/media.js';
import { shell } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-gst-'));
const GST_SOURCE = 'gst-launch-1.0 -q videotestsrc num-buffers=20 pattern=smpte ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! y4menc ! fdsink fd=1';

t.test('GStreamer y4menc ! fdsink | stream-sr -i - -o - -f y4m | fdsrc ! y4mdec ! ... (Debian has y4mdec)', async (t) => {
  const out = join(tmp, 'gst.mkv');
  const y4m = join(tmp, 'sr.y4m');
  const r = shell(`${GST_SOURCE} | $CLI -i - -o - -f y4m --model bicubic --scale 2 -q | tee ${y4m} | gst-launch-1.0 -q fdsrc fd=0 ! y4mdec ! videoconvert ! x264enc ! matroskamux ! filesink location=${out}`);
  t.equal(r.code, 0, r.stderr);
  const header = readFileSync(y4m).subarray(0, 80).toString('latin1').split('\n')[0]!;
  t.match(header, /^YUV4MPEG2 W128 H96 F25:1 Ip A1:1 C420/, `stream-sr's y4m header (${header}): square pixels, not A0:0`);
  const frames = probeVideoFrames(out);
  t.equal(frames.length, 20, 'GStreamer decoded every frame');
  t.same([frames[0]?.width, frames[0]?.height], [128, 96]);
  t.equal(probeStreams(out).find((s) => s.codec_type === 'video')?.r_frame_rate, '25/1');
});

t.test('GStreamer into stream-sr, stream-sr into ffmpeg, and matroska to GStreamer', async (t) => {
  const viaFfmpeg = join(tmp, 'ff.mkv');
  const a = shell(`${GST_SOURCE} | $CLI -i - -o - -f y4m --model bicubic --scale 2 -q | ffmpeg -v error -y -i - -c:v ffv1 ${viaFfmpeg}`);
  t.equal(a.code, 0, a.stderr);
  t.equal(probeVideoFrames(viaFfmpeg).length, 20);
  const viaMkv = join(tmp, 'mkv.mkv');
  const b = shell(`${GST_SOURCE} | $CLI -i - -o - -f matroska --model bicubic --scale 2 -q | gst-launch-1.0 -q fdsrc fd=0 ! matroskademux ! h264parse ! matroskamux ! filesink location=${viaMkv}`);
  t.equal(b.code, 0, b.stderr);
  const frames = probeVideoFrames(viaMkv);
  t.equal(frames.length, 20, 'GStreamer demuxed stream-sr\'s matroska (H.264) from a pipe');
  t.same([frames[0]?.width, frames[0]?.height], [128, 96]);
});

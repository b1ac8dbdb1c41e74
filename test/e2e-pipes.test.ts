import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clips, probeStreams, probeVideoFrames } from './helpers/media.js';
import { shell } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-pipes-'));

t.test('ffmpeg | stream-sr -i - -o - -f y4m | ffmpeg: right frames and size, stream starts with YUV4MPEG2', async (t) => {
  const input = clips.small();
  const head = shell(`ffmpeg -v error -i ${input} -f yuv4mpegpipe - | $CLI -i - -o - -f y4m -q --scale 2 | head -c 9`);
  t.equal(head.stdout.toString('latin1'), 'YUV4MPEG2', 'first bytes on stdout are the y4m signature (no banner, no logs)');
  const out = join(tmp, 'from-pipe.mkv');
  const r = shell(`ffmpeg -v error -i ${input} -f yuv4mpegpipe - | $CLI -i - -o - -f y4m -q --scale 2 | ffmpeg -v error -y -i - -c:v ffv1 ${out}`);
  t.equal(r.code, 0, r.stderr);
  const frames = probeVideoFrames(out);
  t.equal(frames.length, probeVideoFrames(input).length, 'frames in = frames out');
  t.same([frames[0]?.width, frames[0]?.height], [128, 96]);
});

for (const [format, ffFormat] of [['nut', 'nut'], ['matroska', 'matroska'], ['mpegts', 'mpegts']] as const) {
  t.test(`stdin ${format} in, stdout ${format} out`, async (t) => {
    const input = clips.withAac();
    const out = join(tmp, `pipe.${format}`);
    const r = shell(`ffmpeg -v error -i ${input} -c copy -f ${ffFormat} - | $CLI -i - -o - -f ${format} -q --scale 2 > ${out}`);
    t.equal(r.code, 0, r.stderr);
    const streams = probeStreams(out);
    const v = streams.find((s) => s.codec_type === 'video');
    t.same([v?.width, v?.height], [128, 96]);
    t.ok(streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'), 'audio copied through the pipe');
    t.equal(probeVideoFrames(out).length, probeVideoFrames(input).length, 'frames in = frames out');
  });
}

t.test('a reader that closes the pipe early ends the run quietly', async (t) => {
  const input = clips.long();
  const r = shell(`$CLI -i ${input} -o - -f nut -q --scale 2 --model bicubic | head -c 20000 > /dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`);
  t.match(r.stderr, /exit=0/, 'exit status 0');
  t.notMatch(r.stderr, /error/i, 'no error message');
});

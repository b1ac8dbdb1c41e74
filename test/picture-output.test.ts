import t from 'tap';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clips, decodeRgb, probeStreams, psnrY } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

// -o out-%03d.png writes PNG pictures, as FFmpeg's image2 muxer does
const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-pictures-'));

t.test('numbered PNG pictures: one per frame, in order, with the colours ffmpeg decodes from a lossless file of the same run', async (t) => {
  const dir = join(tmp, 'numbered');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const args = ['-i', clips.numbered(), '-q', '--model', 'bicubic', '--scale', '2'];
  const r = runCli([...args, join(dir, 'f-%03d.png')]);
  t.equal(r.code, 0, r.stderr);
  const ref = join(tmp, 'numbered-ref.mkv');
  t.equal(runCli([...args, '-o', ref, '--codec', 'ffv1']).code, 0, 'the same run into a lossless file');
  const expected = decodeRgb(ref).frames;
  const names = readdirSync(dir).sort();
  t.same(names, expected.map((_, i) => `f-${String(i + 1).padStart(3, '0')}.png`), 'numbered from 1, three digits, one per frame');
  const first = probeStreams(join(dir, names[0]!))[0]!;
  t.same([first.codec_name, first.width, first.height, first.pix_fmt], ['png', 128, 96, 'rgb24'], '8-bit input: 8-bit RGB PNG at x2');
  const pictures = names.map((n) => decodeRgb(join(dir, n)).frames[0]!);
  for (let i = 0; i < pictures.length; i++) {
    const same = psnrY(pictures[i]!, expected[i]!);
    t.ok(same > 40, `picture ${i + 1} is frame ${i} (PSNR-Y ${same.toFixed(1)} dB)`);
    if (i > 0) t.ok(psnrY(pictures[i]!, expected[i - 1]!) < same - 3, `picture ${i + 1} is not frame ${i - 1}`);
  }
  const again = runCli([...args, join(dir, 'f-%03d.png')]);
  t.equal(again.code, 2, 'pictures already there: refused without -y');
  t.match(again.stderr, /^stream-sr: output '.*f-001\.png' already exists; use -y to overwrite it\n$/);
  t.equal(runCli([...args, '-y', join(dir, 'f-%03d.png')]).code, 0, '-y writes over them');
});

t.test('10-bit input gives 16-bit PNG pictures; audio is named as not copied', async (t) => {
  const dir = join(tmp, 'deep');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const deep = runCli(['-i', clips.tenBit(), '-q', '--model', 'bicubic', '--scale', '2', join(dir, 'd%d.png')]);
  t.equal(runCli(['-i', clips.numbered(), '-q', '--model', 'bicubic', '--scale', '2', join(dir, 'w%3d-100%%.png')]).code, 0);
  t.ok(existsSync(join(dir, 'w001-100%.png')), '%3d pads with zeros as FFmpeg does; %% is a percent sign');
  t.equal(deep.code, 0, deep.stderr);
  t.equal(probeStreams(join(dir, 'd1.png'))[0]!.pix_fmt, 'rgb48be', 'nearest PNG format to yuv420p10le');
  // the default model works in 8 bits; the pictures still follow the input's depth, as video outputs do
  const model = runCli(['-i', clips.tenBit(), '-q', '--scale', '2', join(dir, 'm%d.png')]);
  t.equal(model.code, 0, model.stderr);
  t.equal(probeStreams(join(dir, 'm1.png'))[0]!.pix_fmt, 'rgb48be', 'the default model too');
  const audio = runCli(['-i', clips.withAac(), '--model', 'bicubic', '--scale', '2', join(dir, 'a-%04d.png')]);
  t.equal(audio.code, 0, audio.stderr);
  t.match(audio.stderr, /warning: input stream #1 \(audio, aac\) is not copied: PNG pictures carry no audio/);
  t.ok(existsSync(join(dir, 'a-0025.png')) && !existsSync(join(dir, 'a-0026.png')), 'all 25 frames written');
});

t.test('a PNG name without a frame number holds one picture', async (t) => {
  const one = join(tmp, 'one.png');
  const still = runCli(['-i', join(tmp, 'deep', 'd1.png'), '-q', '--model', 'bicubic', '--scale', '2', one]);
  t.equal(still.code, 0, `a picture in, a picture out (${still.stderr})`);
  t.equal(probeStreams(one)[0]!.width, 256);
  const many = join(tmp, 'many.png');
  const r = runCli(['-i', clips.numbered(), '-q', '--model', 'bicubic', '--scale', '2', many]);
  t.equal(r.code, 1, 'a second frame is a runtime failure, as with ffmpeg');
  t.match(r.stderr, /output '.*many\.png' is one picture, and the input has more than one frame: number the pictures, e\.g\. many-%04d\.png/);
  t.equal(probeStreams(many)[0]!.codec_name, 'png', 'the first frame is there, whole');
  t.same(
    readdirSync(tmp).filter((n) => n.includes('.partial-')),
    [],
    'no partial file left',
  );
});

import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NUMBER, clips, decodeRgb, ffmpeg, packetMd5s, probeJson, probeStreams, probeVideoFrames, psnrY, sharedData } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-e2e-'));

t.test('vid4 walk: bicubic x4 matches ffmpeg bicubic on PSNR-Y, keeps every frame and its pts', async (t) => {
  const lr = sharedData('vid4_walk', 'lr_x4.mkv');
  const gt = sharedData('vid4_walk', 'gt.mkv');
  if (!lr || !gt) return t.skip('../shared/data/vid4_walk is absent: skipping the Vid4 comparison');
  const out = join(tmp, 'walk-bicubic.mkv');
  const r = runCli(['-i', lr, '-o', out, '--model', 'bicubic', '-c:v', 'ffv1', '-q']);
  t.equal(r.code, 0, r.stderr);
  const outFrames = probeVideoFrames(out);
  const inFrames = probeVideoFrames(lr);
  t.equal(outFrames.length, 47, '47 frames out');
  t.same(outFrames.map((f) => [f.width, f.height]), inFrames.map(() => [720, 480]), 'every frame 720x480');
  t.same(outFrames.map((f) => f.ptsTime), inFrames.map((f) => f.ptsTime), 'pts equal to the input (in seconds)');

  const ffOut = join(tmp, 'walk-ffmpeg.mkv');
  ffmpeg(['-i', lr, '-vf', 'scale=iw*4:ih*4:flags=bicubic', '-c:v', 'ffv1', ffOut]);
  const ref = decodeRgb(gt).frames;
  const ours = decodeRgb(out).frames;
  const theirs = decodeRgb(ffOut).frames;
  const mean = (frames: Buffer[]) => frames.reduce((s, f, i) => s + psnrY(f, ref[i]!), 0) / frames.length;
  const psnrOurs = mean(ours);
  const psnrFfmpeg = mean(theirs);
  t.comment(`PSNR-Y vs GT: stream-sr bicubic ${psnrOurs.toFixed(3)} dB, ffmpeg scale bicubic ${psnrFfmpeg.toFixed(3)} dB`);
  t.ok(Math.abs(psnrOurs - psnrFfmpeg) <= 0.3, `within 0.3 dB (${psnrOurs.toFixed(3)} vs ${psnrFfmpeg.toFixed(3)})`);
});

t.test('AAC audio is copied packet for packet', async (t) => {
  const input = clips.withAac();
  const out = join(tmp, 'aac.mp4');
  const r = runCli(['-i', input, '-o', out, '-q', '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  const want = packetMd5s(input, 'a');
  t.ok(want.length > 10, 'the input has audio packets');
  t.same(packetMd5s(out, 'a'), want, 'identical audio packets');
  const v = probeStreams(out).find((s) => s.codec_type === 'video')!;
  t.equal(v.width, 128);
  t.equal(v.height, 96);
  t.equal(probeVideoFrames(out).length, probeVideoFrames(input).length, 'frames in = frames out');
});

t.test('AAC from mp4 is copied into Matroska, MPEG-TS and MOV exactly as ffmpeg -c copy does', async (t) => {
  const input = clips.withAac();
  for (const ext of ['mkv', 'ts', 'mov']) {
    const out = join(tmp, `aac-copy.${ext}`);
    const r = runCli(['-i', input, '-o', out, '-q', '--scale', '2', '--model', 'bicubic']);
    t.equal(r.code, 0, r.stderr);
    // MPEG-TS carries AAC with ADTS headers, so compare with ffmpeg's own stream copy, not the input
    const reference = join(tmp, `aac-ffmpeg-copy.${ext}`);
    ffmpeg(['-i', input, '-map', '0:a', '-c', 'copy', reference]);
    t.same(packetMd5s(out, 'a'), packetMd5s(reference, 'a'), `${ext}: the same audio packets as ffmpeg's copy`);
  }
});

t.test('subtitles are copied into Matroska', async (t) => {
  const input = clips.withSubtitles();
  const out = join(tmp, 'subs.mkv');
  const r = runCli(['-i', input, '-o', out, '-q', '--scale', '2', '-c:v', 'ffv1']);
  t.equal(r.code, 0, r.stderr);
  const subs = probeStreams(out).filter((s) => s.codec_type === 'subtitle');
  t.equal(subs.length, 1, 'one subtitle stream');
  t.equal(subs[0]?.codec_name, 'subrip');
  t.same(packetMd5s(out, 's'), packetMd5s(input, 's'), 'identical subtitle packets');
});

t.test('a stream the container cannot take is named in a warning, not dropped silently', async (t) => {
  const input = clips.withSubtitles();
  const out = join(tmp, 'subs-dropped.mp4');
  const r = runCli(['-i', input, '-o', out, '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /input stream #1 \(subtitle, subrip\) is not copied: mp4 does not take subrip subtitles/);
});

t.test('variable frame rate stays variable: every pts kept', async (t) => {
  const input = clips.vfr();
  const out = join(tmp, 'vfr.mkv');
  const r = runCli(['-i', input, '-o', out, '-q', '--scale', '2', '-c:v', 'ffv1']);
  t.equal(r.code, 0, r.stderr);
  const inPts = probeVideoFrames(input).map((f) => f.ptsTime);
  const gaps = new Set(inPts.slice(1).map((p, i) => Math.round((p - inPts[i]!) * 1000)));
  t.ok(gaps.size > 1, `the input is really VFR (frame gaps ${[...gaps].join(', ')} ms)`);
  t.same(probeVideoFrames(out).map((f) => f.ptsTime), inPts);
});

t.test('10-bit in gives 10-bit out', async (t) => {
  const out = join(tmp, '10bit.mkv');
  const r = runCli(['-i', clips.tenBit(), '-o', out, '-q', '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  const v = probeStreams(out).find((s) => s.codec_type === 'video')!;
  t.equal(v.pix_fmt, 'yuv420p10le');
  t.equal(v.codec_name, 'h264');
});

t.test('BT.709 limited range in keeps that tagging out', async (t) => {
  const out = join(tmp, 'bt709.mp4');
  const r = runCli(['-i', clips.bt709(), '-o', out, '-q', '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  const v = probeStreams(out).find((s) => s.codec_type === 'video')!;
  t.equal(v.color_space, 'bt709');
  t.equal(v.color_range, 'tv');
  t.equal(v.color_primaries, 'bt709');
  t.equal(v.color_transfer, 'bt709');
});

for (const ext of ['mov', 'ts', 'y4m', 'nut', 'mkv', 'mp4']) {
  t.test(`the container follows the extension: .${ext}`, async (t) => {
    const out = join(tmp, `container.${ext}`);
    const r = runCli(['-i', clips.small(), '-o', out, '-q', '--scale', '2']);
    t.equal(r.code, 0, r.stderr);
    const frames = probeVideoFrames(out);
    t.equal(frames.length, probeVideoFrames(clips.small()).length, 'frames in = frames out');
    t.same([frames[0]?.width, frames[0]?.height], [128, 96]);
    const format = String((probeJson(out, ['-show_format']).format as Record<string, unknown>).format_name);
    const expected: Record<string, RegExp> = { mov: /mov/, ts: /mpegts/, y4m: /yuv4mpegpipe/, nut: /nut/, mkv: /matroska/, mp4: /mp4/ };
    t.match(format, expected[ext]!);
  });
}

t.test('--pix-fmt overrides the output format', async (t) => {
  const out = join(tmp, 'pixfmt-override.mkv');
  const r = runCli(['-i', clips.small(), '-o', out, '-q', '--scale', '2', '--pix-fmt', 'yuv444p']);
  t.equal(r.code, 0, r.stderr);
  t.equal(probeStreams(out).find((s) => s.codec_type === 'video')!.pix_fmt, 'yuv444p');
});

// input format → [encoder, container, the format the output stream must have]
const FAMILY: Record<string, [string, string, string]> = {
  yuv420p: ['libx264', 'mkv', 'yuv420p'],
  yuv422p: ['libx264', 'mkv', 'yuv422p'],
  yuv444p: ['libx264', 'mkv', 'yuv444p'],
  nv12: ['rawvideo', 'nut', 'nv12'],
  rgb24: ['libx264', 'mkv', 'yuv444p'], // libx264 takes no RGB: the nearest is 4:4:4
  gray: ['ffv1', 'mkv', 'gray'],
  yuv420p10le: ['libx264', 'mkv', 'yuv420p10le'],
};
for (const [fmt, [codec, ext, expected]] of Object.entries(FAMILY)) {
  t.test(`${fmt} input: upscaled, colours kept, written as ${expected} by ${codec}`, async (t) => {
    const input = clips.pixfmt(fmt);
    const out = join(tmp, `pixfmt-${fmt}.${ext}`);
    const r = runCli(['-i', input, '-o', out, '-q', '--scale', '2', '--crf', '0', '-c:v', codec]);
    t.equal(r.code, 0, r.stderr);
    const v = probeStreams(out).find((s) => s.codec_type === 'video')!;
    t.equal(v.pix_fmt, expected);
    t.equal(v.width, 128);
    // the x2 upscale, brought back down, resembles the input: colours survived both conversions
    const down = join(tmp, `pixfmt-${fmt}-down.mkv`);
    ffmpeg(['-i', out, '-vf', 'scale=64:48:flags=area', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', down]);
    const a = decodeRgb(input).frames;
    const b = decodeRgb(down).frames;
    t.equal(b.length, a.length, 'frames in = frames out');
    const p = psnrY(a[0]!, b[0]!);
    t.ok(p > 25, `downscaled output is close to the input (PSNR-Y ${p.toFixed(1)} dB)`);
  });
}

t.test('-f null upscales every frame and writes nothing (ffmpeg -f null, to time a run)', async (t) => {
  const frames = probeVideoFrames(clips.small()).length;
  const r = runCli(['-i', clips.small(), '-f', 'null', '-o', '-', '--model', 'bicubic']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.length, 0, 'nothing on stdout');
  t.match(r.stderr, / → null; formats: /, 'the start line names the null output');
  t.match(r.stderr, new RegExp(`stream-sr: ${frames} frames upscaled, none written \\(-f null\\)`), `all ${frames} frames went through the model`);
  const devNull = runCli(['-i', clips.small(), '-f', 'null', '-o', '/dev/null', '-q', '--model', 'bicubic']);
  t.equal(devNull.code, 0, `-o /dev/null needs no -y: nothing is written there (${devNull.stderr})`);
});

t.test('the output may come last without -o, as ffmpeg takes it', async (t) => {
  const frames = probeVideoFrames(clips.small()).length;
  const nul = runCli(['-i', clips.small(), '-f', 'null', '-', '--model', 'bicubic']);
  t.equal(nul.code, 0, nul.stderr);
  t.match(nul.stderr, new RegExp(`stream-sr: ${frames} frames upscaled, none written \\(-f null\\)`), '-f null -');
  // a stream on stdout, as with -o -
  const piped = runCli(['-i', clips.small(), '-q', '-f', 'nut', '-', '--model', 'bicubic', '--scale', '2']);
  t.equal(piped.code, 0, piped.stderr);
  const nut = join(tmp, 'last-dash.nut');
  writeFileSync(nut, piped.stdout);
  t.equal(probeVideoFrames(nut).length, frames, `-f nut -: ${frames} frames on stdout, readable by ffprobe`);
  const file = join(tmp, 'last-file.mkv');
  const named = runCli(['-i', clips.small(), '-q', '--model', 'bicubic', file]);
  t.equal(named.code, 0, named.stderr);
  t.equal(probeVideoFrames(file).length, frames, 'a file named last');
  const both = runCli(['-i', clips.small(), '-o', join(tmp, 'a.mkv'), join(tmp, 'b.mkv')]);
  t.equal(both.code, 2);
  t.match(both.stderr, /^stream-sr: 2 outputs \(.*a\.mkv, .*b\.mkv\): stream-sr writes one; give one\n$/);
  const dashToo = runCli(['-i', clips.small(), '-f', 'nut', '-', join(tmp, 'a.mkv')]);
  t.equal(dashToo.stderr, `stream-sr: 2 outputs (-, ${join(tmp, 'a.mkv')}): stream-sr writes one; give one\n`, 'a `-` beside a file is not dropped');
  const none = runCli(['-i', clips.small()]);
  t.equal(none.code, 2);
  t.match(none.stderr, /^stream-sr: no output: give -o OUTPUT/);
  t.notOk(existsSync(join(tmp, 'a.mkv')) || existsSync(join(tmp, 'b.mkv')), 'no file written on a refusal');
});

t.test('interlaced input is named as such in a warning (it is upscaled as progressive frames)', async (t) => {
  const inter = join(tmp, 'interlaced.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25:duration=0.2', '-c:v', 'libx264', '-flags', '+ildct+ilme', '-x264opts', 'tff=1', '-pix_fmt', 'yuv420p', inter]);
  const r = runCli(['-i', inter, '-o', join(tmp, 'interlaced-up.mkv'), '-q', '--model', 'bicubic', '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, `stream-sr: warning: input '${inter}' is interlaced (top field first): each frame's two fields are upscaled together as one progressive picture, which combs where things move; deinterlace it first (ffmpeg -vf bwdif)\n`);
  const progressive = runCli(['-i', clips.small(), '-o', join(tmp, 'progressive-up.mkv'), '-q', '--model', 'bicubic', '--scale', '2']);
  t.equal(progressive.stderr, '', 'no warning for progressive input');
});

t.test('the output starts at 0 as ffmpeg\'s does, audio and video still in step; -copyts keeps the input\'s times', async (t) => {
  const late = join(tmp, 'late-start.ts');
  ffmpeg(['-i', clips.withAac(), '-c', 'copy', '-output_ts_offset', '10', '-f', 'mpegts', late]);
  const starts = (file: string): Record<string, number> =>
    Object.fromEntries(probeStreams(file).map((s) => [String(s.codec_type), Number(s.start_time)]));
  const input = starts(late);
  t.ok(input.video! > 10 && input.audio! > 10, `the input starts late (video ${input.video}, audio ${input.audio})`);
  const out = join(tmp, 'late-start.mp4');
  const r = runCli(['-i', late, '-o', out, '-q', '--model', 'bicubic', '--scale', '2']);
  t.equal(r.code, 0, r.stderr);
  const output = starts(out);
  t.ok(Math.min(output.video!, output.audio!) < 0.001, `starts at 0 (video ${output.video}, audio ${output.audio})`);
  t.ok(Math.abs(output.video! - output.audio! - (input.video! - input.audio!)) < 0.002, 'the video stays where it was against the audio');
  const kept = join(tmp, 'late-start-copyts.mp4');
  t.equal(runCli(['-i', late, '-o', kept, '-q', '--model', 'bicubic', '--scale', '2', '-copyts']).code, 0);
  t.ok(Math.abs(starts(kept).video! - input.video!) < 0.002, `-copyts: the video starts where the input's did (${starts(kept).video})`);
});

t.test('-r on a file is refused, not ignored: it sets a PNG folder\'s rate only', async (t) => {
  const out = join(tmp, 'rate-on-file.mkv');
  const r = runCli(['-i', clips.small(), '-o', out, '-q', '-r', '30']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^stream-sr: input '.*': -r sets the frame rate of a folder of PNG frames; a file or stream keeps its own timestamps\n$/);
  t.notOk(existsSync(out), 'no output file');
});

t.test('a folder of PNG frames is read in name order', async (t) => {
  const dir = join(tmp, 'pngs');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=48x32:rate=25:duration=0.2', '-vf', NUMBER, '-start_number', '8', join(dir + '-tmp-%d.png')]);
  const { mkdirSync, renameSync, readdirSync } = await import('node:fs');
  mkdirSync(dir);
  // names whose numeric and code-point orders differ: 10.png sorts before 8.png and 9.png
  for (const f of readdirSync(tmp).filter((n) => n.startsWith('pngs-tmp-'))) renameSync(join(tmp, f), join(dir, f.replace('pngs-tmp-', '')));
  const out = join(tmp, 'pngs.mkv');
  const r = runCli(['-i', dir, '-o', out, '-q', '--scale', '2', '-c:v', 'ffv1', '-r', '10']);
  t.equal(r.code, 0, r.stderr);
  const frames = probeVideoFrames(out);
  t.equal(frames.length, 5);
  t.same(frames.map((f) => f.ptsTime), [0, 0.1, 0.2, 0.3, 0.4]);
  // frame 0 must be 10.png (testsrc2 frame 2), so compare against that file upscaled
  const first = decodeRgb(join(dir, '10.png')).frames[0]!;
  const down = join(tmp, 'pngs-down.mkv');
  ffmpeg(['-i', out, '-frames:v', '1', '-vf', 'scale=48:32:flags=area', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', down]);
  const p = psnrY(first, decodeRgb(down).frames[0]!);
  const other = psnrY(decodeRgb(join(dir, '8.png')).frames[0]!, decodeRgb(down).frames[0]!);
  t.ok(p > 28 && p > other + 6, `first output frame is 10.png (PSNR-Y ${p.toFixed(1)} dB; against 8.png ${other.toFixed(1)} dB)`);
});

import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clips, ffmpeg, probeVideoFrames } from './helpers/media.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-errors-'));
const out = (name: string) => join(tmp, name);

function oneLine(t: Tap.Test, stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(stderr)}`);
  t.match(lines[0], pattern);
}

t.test('a missing input', async (t) => {
  const r = runCli(['-i', join(tmp, 'nope.mp4'), '-o', out('a.mp4')]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /input '.*nope\.mp4': no such file or directory/);
});

t.test('an empty input', async (t) => {
  const p = join(tmp, 'empty.mp4');
  writeFileSync(p, '');
  const r = runCli(['-i', p, '-o', out('b.mp4')]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /input '.*empty\.mp4': the file is empty/);
});

t.test('a text file as input', async (t) => {
  const p = join(tmp, 'notes.txt');
  writeFileSync(p, 'this is not a video, just some words\n'.repeat(20));
  const r = runCli(['-i', p, '-o', out('c.mp4')]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /input '.*notes\.txt': a text file, not a video/);
});

t.test('an audio-only input', async (t) => {
  const r = runCli(['-i', clips.audioOnly(), '-o', out('d.mp4')]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /input '.*audio-only\.m4a': no video stream \(found #0 audio aac\)/);
});

t.test('an input smaller than the model takes: one line naming the input, exit 2, no file', async (t) => {
  const tiny = join(tmp, 'tiny-7x7.mkv');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x64:duration=0.2', '-vf', 'scale=7:7', '-pix_fmt', 'yuv444p', '-c:v', 'ffv1', tiny]);
  const target = out('tiny.mkv');
  const r = runCli(['-i', tiny, '-o', target]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /^stream-sr: input '.*tiny-7x7\.mkv': model causal-sr needs frames of at least 8x8, the input is 7x7$/);
  t.notOk(existsSync(target), 'no output file');
});

t.test('an unknown model', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', out('e.mp4'), '--model', 'no-such-model']);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /unknown model 'no-such-model' \(available: .*bicubic/);
});

t.test('a model folder named like an id: the error says to name it by a path', async (t) => {
  const here = mkdtempSync(join(tmpdir(), 'stream-sr-model-folder-'));
  mkdirSync(join(here, 'mine'));
  writeFileSync(join(here, 'mine', 'model.json'), '{}');
  const r = runCli(['-i', clips.small(), '-o', join(here, 'o.mkv'), '--model', 'mine'], { cwd: here });
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /unknown model 'mine' \(.*; for the folder mine here, use --model \.\/mine\)/);
});

t.test('an option value outside its choices: one line naming the option, the value and the choices', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', join(tmp, 'choice.mkv'), '--precision', 'fp16']);
  t.equal(r.code, 2);
  t.equal(r.stderr, 'stream-sr: --precision fp16: not one of auto, fp32, int8\n(see stream-sr --help)\n');
  const live = runCli(['-i', clips.small(), '-o', join(tmp, 'choice.mkv'), '--live-policy', 'skip']);
  t.match(live.stderr, /^stream-sr: --live-policy skip: not one of /, 'a camelCase option is named by its flag');
});

t.test('an unknown option is named once, as typed; a positional out of its choices is quoted', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', join(tmp, 'unknown.mkv'), '--bogus-opt', '-Z']);
  t.equal(r.code, 2);
  t.equal(r.stderr, 'stream-sr: unknown arguments: --bogus-opt, -Z\n(see stream-sr --help)\n');
  const action = runCli(['models', 'bogusaction']);
  t.equal(action.code, 2);
  t.equal(action.stderr, "stream-sr: 'bogusaction': not one of list, build, pull\n(see stream-sr --help)\n");
});

t.test('an option given twice is refused, naming both values', async (t) => {
  for (const [args, message] of [
    [['-f', 'nut', '-f', 'y4m', '-'], '--format given 2 times (nut, y4m): give it once'],
    [['--crf', '20', '--crf', '22', '-o', out('twice.mkv')], '--crf given 2 times (20, 22): give it once'],
    [['-i', 'b.mkv', '-o', out('twice.mkv')], `--input given 2 times (${clips.small()}, b.mkv): give it once`],
  ] as const) {
    const r = runCli(['-i', clips.small(), '--model', 'bicubic', ...args]);
    t.equal(r.code, 2, args.join(' '));
    t.equal(r.stderr, `stream-sr: ${message}\n`);
  }
  t.notOk(existsSync(out('twice.mkv')), 'no output file');
});

t.test('an option given without its value is refused, not taken as its default', async (t) => {
  for (const flag of ['--precision', '--threads', '--device', '--crf', '--tune', '-c:v']) {
    const target = join(tmp, `bare${flag}.mkv`);
    const r = runCli(['-i', clips.small(), '-o', target, '--model', 'bicubic', flag]);
    t.equal(r.code, 2, `${flag} alone: a usage error`);
    t.equal(r.stderr, `stream-sr: ${flag === '-c:v' ? '--codec' : flag}: needs a value\n(see stream-sr --help)\n`);
    t.notOk(existsSync(target), `${flag} alone: no output file`);
  }
});

t.test('a whole-number option with another value: one line quoting it as typed, exit 2, no file', async (t) => {
  for (const [flag, value, minimum] of [['--threads', '-2', 1], ['--threads', '1.5', 1], ['--threads', 'abc', 1], ['--threads', '0', 1], ['--tile', 'abc', 1], ['--gpu', '-1', 0]] as const) {
    const target = out(`whole${flag}${value}.mkv`);
    const r = runCli(['-i', clips.small(), '-o', target, '--model', 'bicubic', flag, value]);
    t.equal(r.code, 2, `${flag} ${value}: a usage error`);
    t.equal(r.stderr, `stream-sr: ${flag} ${value}: must be a whole number of at least ${minimum}\n`);
    t.notOk(existsSync(target), `${flag} ${value}: no output file`);
  }
  const overlap = runCli(['-i', clips.small(), '-o', out('whole-overlap.mkv'), '--tile', '64', '--tile-overlap', 'x']);
  t.equal(overlap.stderr, 'stream-sr: --tile-overlap x: must be a whole number of at least 0\n');
});

t.test('--tune reaches the encoder; a tune it does not know is refused before the file is made', async (t) => {
  const film = out('tune-film.mp4');
  const r = runCli(['-i', clips.small(), '-o', film, '-q', '--model', 'bicubic', '--tune', 'film']);
  t.equal(r.code, 0, r.stderr);
  // x264 writes its settings into the stream: film sets psy-rd trellis 0.15 and deblock -1:-1
  t.match(readFileSync(film).toString('latin1'), /deblock=1:-1:-1 .*psy_rd=1\.00:0\.15/, "x264's settings say film");
  const bogus = out('tune-bogus.mp4');
  const bad = runCli(['-i', clips.small(), '-o', bogus, '--model', 'bicubic', '--tune', 'bogus']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^stream-sr: output '.*tune-bogus\.mp4': unknown libx264 tune 'bogus' \(film, animation, .*\)\n$/);
  t.notOk(existsSync(bogus), 'no output file');
});

t.test('--crf that is not a number is quoted as typed', async (t) => {
  for (const value of ['abc', '1e3', '']) {
    const target = out(`crf-${value}.mkv`);
    const r = runCli(['-i', clips.small(), '-o', target, '--model', 'bicubic', '--crf', value]);
    t.equal(r.code, 2);
    t.equal(r.stderr, `stream-sr: --crf ${value || "''"}: not a number\n`);
    t.notOk(existsSync(target), 'no output file');
  }
  const fractional = runCli(['-i', clips.small(), '-o', out('crf-fraction.mp4'), '-q', '--model', 'bicubic', '--crf', '23.5']);
  t.equal(fractional.code, 0, `a fractional crf is x264's own (${fractional.stderr})`);
});

t.test('an unwritable output', async (t) => {
  const dir = join(tmp, 'readonly');
  mkdirSync(dir);
  chmodSync(dir, 0o500);
  const target = join(dir, 'f.mp4');
  const r = runCli(['-i', clips.small(), '-o', target]);
  if (process.getuid?.() === 0) {
    // root writes anywhere; a folder that does not exist is the unwritable case then
    const r2 = runCli(['-i', clips.small(), '-o', join(tmp, 'no-such-dir', 'f.mp4')]);
    t.equal(r2.code, 2);
    oneLine(t, r2.stderr, /output '.*f\.mp4': folder .* does not exist/);
    return;
  }
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /output '.*f\.mp4': cannot open for writing: Permission denied/);
});

t.test('an output path in a missing folder', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', join(tmp, 'missing', 'out.mp4')]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /output '.*out\.mp4': folder .*missing does not exist/);
});

t.test('an existing output without -y', async (t) => {
  const p = out('exists.mp4');
  writeFileSync(p, 'x');
  const r = runCli(['-i', clips.small(), '-o', p]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /output '.*exists\.mp4' already exists; use -y to overwrite it/);
});

t.test('stdout without a format', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', '-']);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /name the stream format with -f/);
  t.equal(r.stdout.length, 0, 'nothing on stdout');
});

t.test('a container that must seek cannot go to a pipe', async (t) => {
  const r = runCli(['-i', clips.small(), '-o', '-', '-f', 'mp4']);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /-f mp4: cannot be written to a pipe \(it needs to seek back\); use y4m, nut, matroska, mpegts/);
  t.equal(r.stdout.length, 0);
});

t.test('a failure before the first frame: the warning says the run failed (not that it was stopped), then the error; no file', async (t) => {
  const p = out('failed-at-once.mkv');
  const r = runCli(['-i', clips.small(), '-o', p, '--model', 'bicubic', '--inject', 'errorAfter=0', '-q']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^stream-sr: warning: .*failed-at-once\.mkv: the run failed before the first frame; no file written\nstream-sr: error in injected: injected: injected failure at frame 0\n$/);
  t.notOk(existsSync(p), 'no file');
});

t.test('a failure mid-stream exits 1, names the stage, and leaves a playable file with the frames done', async (t) => {
  const p = out('partial.mkv');
  const r = runCli(['-i', clips.long(), '-o', p, '--model', 'bicubic', '--inject', 'errorAfter=10', '--scale', '2', '-q']);
  t.equal(r.code, 1);
  oneLine(t, r.stderr, /error in injected: injected: injected failure at frame 10/);
  const frames = probeVideoFrames(p);
  t.ok(frames.length >= 8 && frames.length <= 10, `the file plays and holds the frames written (${frames.length})`);
});

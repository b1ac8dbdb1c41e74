// The reliability matrix, file side: bad inputs, bad outputs and bad settings, each run through the
// real CLI (bicubic, tiny clips) and checked for its exit code, its one message, no native crash,
// and what ffmpeg itself can read of the output. The table it builds is the README's.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpeg, clips, NUMBER, probeJson, psnrY, ROOT } from './helpers/media.js';
import { runCli, runCliAsync, shell, type CliResult } from './helpers/cli.js';
import { decodedFrames, formatMatrix, framesReported, nativeCrash, outputState, ownMessages, type MatrixRow } from './helpers/reliability.js';
import { random } from './helpers/tfjs-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-reliability-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
const rows: MatrixRow[] = [];
const FAST = ['--model', 'bicubic', '-q'];
const md5 = (p: string) => createHash('md5').update(readFileSync(p)).digest('hex');

// 2 s, 64x48, H.264 + AAC: frames differ (testsrc2's running clock)
const TESTSRC = (size: string, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`];
function make(name: string, args: string[]): string {
  ffmpeg([...args, at(name)]);
  return at(name);
}
const mp4 = make('clip.mp4', [...TESTSRC('64x48', 2), '-f', 'lavfi', '-i', 'sine=duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']);
const mkv = make('clip.mkv', ['-i', mp4, '-c', 'copy']);
const ts = make('clip.ts', ['-i', mp4, '-c', 'copy']);

function cut(src: string, name: string, fraction: number): string {
  copyFileSync(src, at(name));
  truncateSync(at(name), Math.floor(readFileSync(src).length * fraction));
  return at(name);
}

interface Expect {
  readonly code: number;
  /** Our one message (not a warning), when the case fails. */
  readonly message?: RegExp;
  /** A warning that must be printed. */
  readonly warning?: RegExp;
  /** 'none': no file left; 'all': readable with every frame ffmpeg decodes from `reference`; 'some': readable, frames as reported. */
  readonly output: 'none' | 'all' | 'some';
  /** ffmpeg's own decode of this input: the frames a good output keeps. */
  readonly reference?: string;
}

/** Runs one case, checks it, and adds its row to the table. */
function check(t: Tap.Test, name: string, r: CliResult, out: string, expect: Expect): void {
  const crash = nativeCrash(r);
  t.notOk(crash, `no native crash${crash ? ` (${crash})` : ''}`);
  t.equal(r.code, expect.code, `exit ${expect.code}`);
  const messages = ownMessages(r.stderr).filter((l) => !/frames written to/.test(l));
  if (expect.message) {
    t.equal(messages.length, 1, `one message: ${JSON.stringify(r.stderr)}`);
    t.match(messages[0] ?? '', expect.message);
  } else {
    t.same(messages, [], 'no error message');
  }
  if (expect.warning) t.match(r.stderr, expect.warning, 'says what happened');
  const state = outputState(out);
  let output: string;
  if (expect.output === 'none') {
    t.notOk(state.exists, 'no output file left');
    output = 'no file';
  } else {
    t.ok(state.readable, 'ffprobe reads the output');
    const reported = framesReported(r.stderr);
    if (reported !== undefined) t.equal(state.frames, reported, `ffmpeg decodes the ${reported} frames reported written`);
    if (expect.output === 'all' && expect.reference) {
      const ref = decodedFrames(expect.reference).frames;
      t.equal(state.frames, ref, `every frame ffmpeg decodes from the input (${ref})`);
    }
    output = `playable, ${state.frames} frames`;
  }
  const said = messages[0] ?? (expect.warning ? r.stderr.split('\n').find((l) => expect.warning!.test(l)) : undefined) ?? '';
  rows.push({ case: name, exit: String(r.code), message: said.replace(/^stream-sr: (warning: )?/, '').replace(tmp + '/', '').slice(0, 140) || '—', output });
}

/** Runs (and checks) a case; the CLI runs without -y where the output must not exist. */
function runCase(name: string, args: string[], out: string, expect: Expect): void {
  t.test(name, async (t) => {
    rmSync(out, { force: true });
    check(t, name, runCli([...FAST, ...args, '-o', out, '-y']), out, expect);
  });
}

/** Open failures that crashed natively now and then: several runs, three at a time. */
function runRepeated(name: string, input: string[], message: RegExp, runs = 6): void {
  t.test(`${name} (${runs} runs, 3 in parallel)`, async (t) => {
    const results: CliResult[] = [];
    for (let i = 0; i < runs; i += 3) {
      const batch = [0, 1, 2].slice(0, runs - i).map((k) => runCliAsync([...FAST, ...input, '-o', at(`rep-${i + k}.mkv`), '-y'], { cwd: tmp }));
      results.push(...(await Promise.all(batch)));
    }
    const crashes = results.map((r) => nativeCrash(r)).filter(Boolean);
    t.same(crashes, [], 'no native crash in any run');
    t.notOk(existsSync(at('crash.log')), 'no crash.log left in the working directory');
    for (const [i, r] of results.entries()) {
      t.equal(r.code, 2, `run ${i + 1}: exit 2`);
      t.match(ownMessages(r.stderr).join('\n'), message, `run ${i + 1}: says why`);
      t.notOk(existsSync(at(`rep-${i}.mkv`)), `run ${i + 1}: no output file`);
    }
    rows.push({ case: `${name} (x${runs})`, exit: [...new Set(results.map((r) => r.code ?? r.signal))].sort().join(', '), message: (ownMessages((results.find((r) => r.code === 2) ?? results[0]!).stderr)[0] ?? '').replace(/^stream-sr: /, '').replace(tmp + '/', ''), output: 'no file' });
  });
}

// ---- bad inputs ----
runCase('missing input', ['-i', at('nope.mp4')], at('o-missing.mkv'), { code: 2, message: /input '.*nope\.mp4': no such file or directory/, output: 'none' });
writeFileSync(at('empty.mp4'), '');
runCase('empty input', ['-i', at('empty.mp4')], at('o-empty.mkv'), { code: 2, message: /the file is empty/, output: 'none' });
writeFileSync(at('notes.mp4'), 'this is not a video, just some words\n'.repeat(20));
runRepeated('text file named .mp4', ['-i', at('notes.mp4')], /input '.*notes\.mp4': /);
runCase('audio-only input', ['-i', clips.audioOnly()], at('o-audio.mkv'), { code: 2, message: /no video stream \(found #0 audio aac\)/, output: 'none' });
runRepeated('truncated mp4 (index lost)', ['-i', cut(mp4, 'cut.mp4', 0.5)], /input '.*cut\.mp4': /);
const cutMkv = cut(mkv, 'cut.mkv', 0.6);
runCase('truncated mkv', ['-i', cutMkv], at('o-cut-mkv.mkv'), { code: 0, output: 'all', reference: cutMkv });
const cutTs = cut(ts, 'cut.ts', 0.6);
runCase('truncated ts', ['-i', cutTs], at('o-cut-ts.mkv'), { code: 0, output: 'all', reference: cutTs });
/** Every video frame at 64x48 as RGB24, none duplicated or dropped (ffmpeg's rawvideo default is CFR). */
function rgb64x48(path: string): Buffer[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', 'scale=64:48', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
  const size = 64 * 48 * 3;
  return Array.from({ length: Math.floor(r.stdout.length / size) }, (_, i) => r.stdout.subarray(i * size, (i + 1) * size));
}
/** Cut near half, inside a video packet (at 64x48 the half itself often lands in an audio packet). */
function cutInVideoPacket(src: string, name: string): string {
  const half = readFileSync(src).length / 2;
  const packets = (probeJson(src, ['-select_streams', 'v:0', '-show_entries', 'packet=pos,size']).packets as Array<{ pos: string; size: string }>).map((p) => ({ pos: Number(p.pos), size: Number(p.size) }));
  const p = packets.find((p) => p.pos + p.size > half)!;
  copyFileSync(src, at(name));
  truncateSync(at(name), p.pos + Math.floor(p.size / 2));
  return at(name);
}
// moov at the front: the index survives the cut and the last packet read is a partial one, whose
// failed picture ended the decoder's flush (the frames behind it in the frame threads were lost)
for (const audio of [false, true]) {
  const name = `truncated mp4, moov at the front${audio ? ', with AAC' : ''} (50 %, inside a video packet)`;
  const whole = make(`fs${audio ? '-aac' : ''}.mp4`, [...TESTSRC('64x48', 2), ...(audio ? ['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-shortest'] : []), '-vf', NUMBER, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']);
  const input = cutInVideoPacket(whole, `cut-fs${audio ? '-aac' : ''}.mp4`);
  t.test(name, async (t) => {
    const out = at(`o-cut-fs${audio ? '-aac' : ''}.mkv`);
    check(t, name, runCli([...FAST, '-i', input, '-o', out, '-y']), out, { code: 0, warning: /warning: input '.*cut-fs(-aac)?\.mp4': it ends on a damaged packet/, output: 'all', reference: input });
    // the order too: each frame, scaled back down, is closest to the same frame of ffmpeg's decode
    const ref = rgb64x48(input);
    const closest = rgb64x48(out).map((f) => ref.reduce((best, r, j) => (psnrY(f, r) > psnrY(f, ref[best]!) ? j : best), 0));
    t.same(closest, ref.map((_, i) => i), `the ${ref.length} frames ffmpeg decodes, in its order`);
  });
}
for (const seed of [1, 2, 3]) {
  // 12 runs of 8 random bytes after the first 4 KB: damaged packets, not a damaged header
  const bytes = readFileSync(ts);
  const rnd = random(seed); // the corruption is deterministic per seed
  for (let k = 0; k < 12; k++) {
    const o = 4096 + Math.floor(rnd() * (bytes.length - 4200));
    for (let j = 0; j < 8; j++) bytes[o + j] = Math.floor(rnd() * 256);
  }
  writeFileSync(at(`corrupt-${seed}.ts`), bytes);
  runCase(`corrupted ts packets (seed ${seed})`, ['-i', at(`corrupt-${seed}.ts`)], at(`o-corrupt-${seed}.mkv`), { code: 0, output: 'all', reference: at(`corrupt-${seed}.ts`) });
}
writeFileSync(at('joined.ts'), Buffer.concat([readFileSync(ts), readFileSync(ts)]));
runCase('timestamps going backwards (two ts joined with cat)', ['-i', at('joined.ts')], at('o-joined.mkv'), { code: 0, warning: /timestamps went backwards/, output: 'all', reference: at('joined.ts') });
const small = make('r1.ts', [...TESTSRC('64x48', 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
// the second part's clock continues where the first ends (1.4 s start + 1 s)
const larger = make('r2.ts', [...TESTSRC('80x64', 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-output_ts_offset', '1']);
writeFileSync(at('resize-continuous.ts'), Buffer.concat([readFileSync(small), readFileSync(larger)]));
runCase('resolution change, continuous timestamps', ['-i', at('resize-continuous.ts')], at('o-resize1.mkv'), { code: 0, warning: /picture changes to 80x64/, output: 'all', reference: at('resize-continuous.ts') });
const restart = make('r3.ts', [...TESTSRC('80x64', 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
writeFileSync(at('resize-restart.ts'), Buffer.concat([readFileSync(small), readFileSync(restart)]));
runCase('resolution change, timestamps restarting', ['-i', at('resize-restart.ts')], at('o-resize2.mkv'), { code: 0, warning: /picture changes to 80x64/, output: 'all', reference: at('resize-restart.ts') });
writeFileSync(at('zero.y4m'), 'YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n');
runCase('zero frames', ['-i', at('zero.y4m')], at('o-zero.mkv'), { code: 0, warning: /the input has no video frames; no file written/, output: 'none' });
const odd = make('odd.mkv', [...TESTSRC('64x48', 0.2), '-vf', 'scale=65:49', '-c:v', 'ffv1', '-pix_fmt', 'yuv420p']);
runCase('odd size 65x49', ['-i', odd], at('o-odd.mp4'), { code: 0, output: 'all', reference: odd });
const tiny = make('tiny.mkv', [...TESTSRC('2x2', 0.2), '-c:v', 'ffv1']);
runCase('tiny 2x2', ['-i', tiny], at('o-tiny.mkv'), { code: 0, output: 'all', reference: tiny });
const huge = make('8k.nut', ['-f', 'lavfi', '-i', 'color=size=7680x4320:rate=1:duration=1', '-frames:v', '1', '-c:v', 'ffv1']);
runCase('8K input, x4 (beyond FFmpeg\'s picture limit)', ['-i', huge], at('o-8k.mkv'), { code: 2, message: /7680x4320 x4 gives 30720x17280 is beyond FFmpeg's picture size limit/, output: 'none' });
runRepeated('refused http://127.0.0.1:1', ['-i', 'http://127.0.0.1:1/clip.mp4'], /input 'http:\/\/127\.0\.0\.1:1\/clip\.mp4': /);
writeFileSync(at('list.txt'), "file 'missing-part.mp4'\n");
runRepeated('concat list naming a missing file', ['-i', at('list.txt'), '--input-format', 'concat'], /input '.*list\.txt': /);

// ---- the same file in and out ----
t.test('same file in and out (the path, ./path, a symlink, a hard link): refused, input untouched', async (t) => {
  const input = at('same.mkv');
  copyFileSync(mkv, input);
  const before = md5(input);
  symlinkSync(input, at('same-link.mkv'));
  linkSync(input, at('same-hard.mkv'));
  for (const out of ['same.mkv', './same.mkv', 'same-link.mkv', 'same-hard.mkv']) {
    const r = runCli([...FAST, '-i', 'same.mkv', '-o', out, '-y'], { cwd: tmp });
    t.notOk(nativeCrash(r));
    t.equal(r.code, 2, `${out}: exit 2`);
    t.equal(ownMessages(r.stderr).length, 1);
    t.match(r.stderr, /is the input file 'same\.mkv' itself; refusing to overwrite what is being read/);
    t.equal(md5(input), before, `${out}: the input is untouched`);
  }
  rows.push({ case: 'same file in and out (also ./x, symlink, hard link), with -y', exit: '2', message: "output 'same.mkv' is the input file 'same.mkv' itself; refusing to overwrite what is being read", output: 'input untouched' });
});

// ---- bad outputs ----
runCase('output folder missing', ['-i', mkv], at('no-such-dir/out.mkv'), { code: 2, message: /folder .*no-such-dir does not exist/, output: 'none' });

/** A small tmpfs of our own, where this process may mount one (root, not in a locked container). */
function mountTmpfs(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0;
}
function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

t.test('read-only output folder', async (t) => {
  // chmod does not stop root: a read-only tmpfs does
  const dir = at('ro');
  if (!mountTmpfs(dir, 'ro,size=64k')) {
    t.skip('cannot mount a read-only tmpfs here (needs root and mount rights); chmod would not stop root');
    return;
  }
  t.teardown(() => unmount(dir));
  // three runs: beamcoder's openIO failure went unreported now and then, and the header write crashed
  for (let i = 0; i < 3; i++) {
    check(t, i === 0 ? 'read-only output folder (ro tmpfs), x3' : '', runCli([...FAST, '-i', mkv, '-o', join(dir, 'out.mkv')]), join(dir, 'out.mkv'), { code: 2, message: /cannot open for writing: Read-only file system/, output: 'none' });
  }
  rows.splice(rows.length - 2, 2);
});

t.test('disk full while writing', async (t) => {
  const dir = at('full');
  if (!mountTmpfs(dir, 'size=96k')) {
    t.skip('cannot mount a small tmpfs here (needs root and mount rights)');
    return;
  }
  t.teardown(() => unmount(dir));
  const out = join(dir, 'out.mkv');
  const r = runCli([...FAST, '-i', mkv, '-o', out, '-c:v', 'ffv1']);
  t.notOk(nativeCrash(r));
  t.equal(r.code, 1, 'exit 1: a runtime failure');
  t.equal(ownMessages(r.stderr).length, 1, `one message: ${r.stderr}`);
  t.match(r.stderr, /writing failed: No space left on device|cannot finish the file: No space left on device/);
  t.equal(r.stdout.length, 0, 'nothing on stdout');
  const state = outputState(out);
  t.ok(state.readable && state.frames > 0, `what fitted is readable (${state.frames} frames)`);
  rows.push({ case: 'disk full (96 KB tmpfs), ffv1', exit: String(r.code), message: (ownMessages(r.stderr)[0] ?? '').replace(/^stream-sr: /, '').replace(tmp + '/', ''), output: `readable up to the cut, ${state.frames} frames` });
});

// ---- bad settings: refused before anything is written ----
runCase('--preset bogus', ['-i', mkv, '--preset', 'bogus'], at('o-preset.mkv'), { code: 2, message: /unknown libx264 preset 'bogus'/, output: 'none' });
runCase('--crf 99', ['-i', mkv, '--crf', '99'], at('o-crf.mkv'), { code: 2, message: /--crf 99 is out of range \(0\.\.51/, output: 'none' });
runCase('unknown encoder', ['-i', mkv, '-c:v', 'no-such-encoder'], at('o-codec.mkv'), { code: 2, message: /unknown video encoder 'no-such-encoder'/, output: 'none' });

t.test('truncated .onnx model file: the user\'s bad input, exit 2, nothing written', async (t) => {
  const dir = at('broken-model');
  mkdirSync(dir);
  for (const f of ['model.json', 'esrgan-slim-x4.onnx', 'esrgan-slim-x2.onnx']) copyFileSync(join(ROOT, 'models', 'esrgan-slim', f), join(dir, f));
  truncateSync(join(dir, 'esrgan-slim-x4.onnx'), 4000);
  const out = at('o-onnx.mkv');
  const r = runCli(['-q', '--model', join(dir, 'model.json'), '-i', mkv, '-o', out]);
  check(t, 'truncated .onnx model file', r, out, { code: 2, message: /is not a readable ONNX model \(truncated or corrupt\?\)/, output: 'none' });
});

t.test('PNG folder with a frame of another size: exit 2, the frames before it kept', async (t) => {
  const dir = at('pngs');
  mkdirSync(dir);
  ffmpeg([...TESTSRC('64x48', 0.2), join(dir, 'f%03d.png')]);
  ffmpeg([...TESTSRC('80x48', 0.04), '-start_number', '10', join(dir, 'f%03d.png')]);
  const out = at('o-png.mkv');
  const r = runCli([...FAST, '-i', dir, '-o', out]);
  check(t, 'PNG folder, one frame of another size', r, out, { code: 2, message: /f010\.png': 80x48 differs from the first frame's 64x48/, output: 'some' });
  t.equal(outputState(out).frames, 5, 'the 5 frames before it');
  // a slow model holds the last good frames in flight when the bad one is read: they are still written
  const slow = at('o-png-slow.mkv');
  const s = runCli([...FAST, '--inject', 'modelDelayMs=150', '-i', dir, '-o', slow]);
  check(t, 'PNG folder, one frame of another size, slow model', s, slow, { code: 2, message: /f010\.png': 80x48 differs from the first frame's 64x48/, output: 'some' });
  t.equal(outputState(slow).frames, 5, 'the 5 frames before it, though they were in flight when reading failed');
});

t.test('alpha input: kept and scaled by a native model; a float or luma model says the output is opaque, and it is', async (t) => {
  // alpha that varies across the picture (a ramp), so "kept" and "opaque" can be told apart
  const input = make('alpha.nut', [...TESTSRC('64x48', 0.2), '-vf', "format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='X*4',format=rgba", '-c:v', 'ffv1']);
  const alphaStats = (file: string) => spawnSync('ffmpeg', ['-v', 'info', '-i', file, '-vf', 'alphaextract,signalstats,metadata=print:key=lavfi.signalstats.YMIN', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
  const kept = at('o-alpha-native.mkv');
  const native = runCli([...FAST, '-i', input, '-o', kept, '-c:v', 'ffv1']);
  t.equal(native.code, 0);
  t.notMatch(native.stderr, /alpha channel/, 'bicubic in swscale keeps alpha: nothing to warn about');
  t.match(alphaStats(kept), /YMIN=0\b/, 'the alpha ramp is there (0 at the left edge)');
  const opaque = at('o-alpha-float.mkv');
  const float = runCli([...FAST, '--tile', '32', '--tile-overlap', '4', '-i', input, '-o', opaque, '-c:v', 'ffv1']);
  t.equal(float.code, 0);
  t.match(float.stderr, /alpha channel is not upscaled by the model: bgra is written fully opaque/);
  const stats = alphaStats(opaque);
  t.match(stats, /YMIN=255/, 'and it is: alpha 255 everywhere');
  t.notMatch(stats, /YMIN=(?!255)\d+/);
  // the default model (causal-sr, luma) takes 8-bit YUV without alpha: the same warning, the same opaque output
  const luma = at('o-alpha-luma.mkv');
  const l = runCli(['-q', '-i', input, '-o', luma, '-c:v', 'ffv1']);
  t.equal(l.code, 0, l.stderr);
  t.match(l.stderr, /alpha channel is not upscaled by the model: bgra is written fully opaque/, 'the luma model says so');
  t.match(alphaStats(luma), /YMIN=255/, 'and it is: alpha 255 everywhere');
});

t.test('10-bit input to y4m: written as ffmpeg -strict -1 writes it (C420p10), with a warning; ffmpeg reads every frame back', async (t) => {
  const input = make('ten-bit.mkv', [...TESTSRC('64x48', 0.4), '-pix_fmt', 'yuv420p10le', '-c:v', 'ffv1']);
  const y4m = at('ten-bit.y4m');
  const r = runCli([...FAST, '-i', input, '-o', y4m]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /yuv420p10le is written as FFmpeg's extension of y4m/, 'a warning says readers other than FFmpeg may not take it');
  t.match(readFileSync(y4m).subarray(0, 60).toString('latin1'), /^YUV4MPEG2 W256 H192 F25:1 .*C420p10 /, 'the header says 10-bit 4:2:0');
  const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=pix_fmt,nb_read_frames', '-of', 'csv=p=0', y4m], { encoding: 'utf8' });
  t.equal(probe.stdout.trim(), 'yuv420p10le,10', 'ffprobe reads 10 frames of yuv420p10le');
  const plain = runCli([...FAST, '-i', input, '-o', at('ten-bit-8.y4m'), '--pix-fmt', 'yuv420p']);
  t.equal(plain.code, 0, plain.stderr);
  t.notMatch(plain.stderr, /extension of y4m/, '--pix-fmt yuv420p: plain y4m, no warning');
});

// ---- y4m declares the real frame rate ----
for (const [name, input] of [['mp4', mp4], ['mkv', mkv], ['ts', ts]] as const) {
  t.test(`${name} → y4m → ffmpeg keeps the duration and the frames`, async (t) => {
    const out = at(`y4m-from-${name}.mp4`);
    const r = shell(`$CLI -q --model bicubic -i ${input} -o - -f y4m | tee ${at(`from-${name}.y4m`)} | ffmpeg -v error -nostdin -y -i - -c:v libx264 -preset ultrafast ${out}`);
    t.equal(r.code, 0, r.stderr);
    t.match(readFileSync(at(`from-${name}.y4m`)).subarray(0, 60).toString('latin1'), /^YUV4MPEG2 W256 H192 F25:1 /, 'F25:1, not 1/time base');
    const duration = Number(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out], { encoding: 'utf8' }).stdout);
    t.ok(Math.abs(duration - 2) < 0.05, `2 s in, ${duration} s out`);
    t.equal(decodedFrames(out).frames, 50);
  });
}

t.test('VFR into y4m: every frame kept, and a warning that the timing becomes constant', async (t) => {
  const r = shell(`$CLI --model bicubic -i ${clips.vfr()} -o - -f y4m | ffmpeg -v error -nostdin -i - -f framecrc -`);
  t.equal(r.code, 0);
  t.match(r.stderr, /frame timing varies .* but y4m has no timestamps: every frame is kept and plays at 25\/1 fps/);
  t.equal(r.stdout.toString().split('\n').filter((l) => l && !l.startsWith('#')).length, framesReported(r.stderr));
});

// ---- stdout carries the stream only ----
t.test('native printf lands on stderr, not in the stream on stdout', async (t) => {
  // beamcoder prints "DEBUG: ..." with printf (fd 1) for an option it cannot set: a real native
  // print, as on a failed close when the disk is full
  const guard = join(ROOT, 'dist', 'src', 'cli', 'stdout-guard.js');
  const script = `
    const { moveStdoutAside } = await import(${JSON.stringify(guard)});
    moveStdoutAside();
    const { stdoutStreamFd } = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'core', 'stream-fd.js'))});
    const { createRequire } = await import('node:module');
    const bc = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('beamcoder');
    bc.encoder({ name: 'libx264', width: 64, height: 48, pix_fmt: 'yuv420p', time_base: [1, 25], priv_data: { 'no-such-option': 1 } });
    (await import('node:fs')).writeSync(stdoutStreamFd(), 'STREAM');`;
  writeFileSync(at('printf.mjs'), script);
  // stderr to a file: the test runner's own stderr is a socket, which cannot be reopened (the
  // guard then sends native prints to /dev/null, still not into the stream)
  const r = shell(`node ${at('printf.mjs')} 2> ${at('printf.err')} | cat`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.toString(), 'STREAM', 'stdout holds what was written to the stream, nothing else');
  t.match(readFileSync(at('printf.err'), 'utf8'), /DEBUG: Option no-such-option not found/, 'the native line went to stderr');
});

t.test('--help wraps at word boundaries', async (t) => {
  const r = runCli(['--help']);
  t.equal(r.code, 0);
  const help = r.stdout.toString();
  t.match(help, /between a decoder and an encoder\./, 'the usage line is whole');
  t.match(help, /wrapped_avframe/, 'option texts keep their words');
  // a line cut inside a word ends with a letter and the next continues with a lowercase letter
  // straight at the description column; wrap-ansi breaks only at spaces
  const lines = help.split('\n');
  const cut = lines.filter((l, i) => /[a-z]$/.test(l) && /^\s*[a-z]+[.,)]?(\s|$)/.test(lines[i + 1] ?? '') && !(lines[i + 1] ?? '').trim().includes(' ') && (lines[i + 1] ?? '').trim().length < 4);
  t.same(cut, [], 'no word split across lines');
});

t.test('the matrix', async (t) => {
  t.comment(`\n${formatMatrix(rows)}`);
  if (process.env.STREAM_SR_MATRIX_OUT) writeFileSync(process.env.STREAM_SR_MATRIX_OUT, formatMatrix(rows) + '\n');
  t.ok(rows.length >= 25, `${rows.length} cases`);
});

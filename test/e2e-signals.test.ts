import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { clips, probeVideoFrames } from './helpers/media.js';
import { startCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-signals-'));

async function interrupt(signal: NodeJS.Signals, outName: string) {
  const out = join(tmp, outName);
  const child = startCli(['-i', clips.long(), '-o', out, '--model', 'bicubic', '--inject', 'delayMs=40', '-v']);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // wait until the output is open and some frames are through, then interrupt
  await new Promise((r) => setTimeout(r, 4000));
  child.kill(signal);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr, out };
}

for (const [signal, expected] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`${signal} halfway finishes a playable file holding the frames written so far`, async (t) => {
    const { code, stderr, out } = await interrupt(signal, `${signal}.mp4`);
    t.equal(code, expected, `exit ${expected}`);
    const frames = probeVideoFrames(out);
    t.ok(frames.length > 0 && frames.length < 300, `some but not all frames (${frames.length})`);
    const written = Number(/(\d+) frames written/.exec(stderr)?.[1]);
    t.equal(frames.length, written, 'the file holds every frame reported written');
    // a full decode by ffmpeg itself: exit 0, nothing on stderr (where ffmpeg reports errors), and
    // every frame decoded (the trailer/index is there)
    const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:v:0', '-f', 'framecrc', '-'], { encoding: 'utf8' });
    t.equal(decode.status, 0, 'ffmpeg decodes it (exit 0)');
    t.equal(decode.stderr, '', 'decodes cleanly (no errors on stderr)');
    t.equal(decode.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length, written, 'ffmpeg decodes every frame reported written');
  });
}

t.test('Ctrl-C while a live input is still connecting exits 130 with one line and writes nothing', async (t) => {
  const out = join(tmp, 'never.mkv');
  const child = startCli(['-i', 'rtsp://127.0.0.1:9/nothing-listens-here', '-o', out]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise((r) => setTimeout(r, 2500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 130);
  t.match(stderr, /input 'rtsp:\/\/127\.0\.0\.1:9\/nothing-listens-here': stopped before the stream could be opened; nothing was written/);
  t.notMatch(stderr, /error/);
  t.notOk(existsSync(out), 'no output file');
});

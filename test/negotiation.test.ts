import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, encodeModel } from '../src/onnx/graph.js';
import { memoryLogger } from '../src/core/log.js';
import { pipelineFromData } from '../src/pipeline/pipeline-file.js';
import { runSpec } from '../src/pipeline/run-spec.js';
import { AvSource } from '../src/sources/av-source.js';
import { TeeSink } from '../src/sinks/tee-sink.js';
import type { Sink } from '../src/sinks/sink.js';
import type { Frame } from '../src/core/frame.js';
import { Credit } from '../src/core/credit.js';
import { RunStats } from '../src/core/stats.js';
import { clips, ffmpeg, packetMd5s, probeStreams, probeVideoFrames } from './helpers/media.js';
import { writeHistoryModel } from './helpers/history-model.js';
import { runCli } from './helpers/cli.js';

/**
 * Formats negotiated before the first frame: a native model (bicubic in swscale) never sees float
 * RGB and matches ffmpeg's own scaler; a float model gets one conversion in and one out, however
 * many outputs; colour tags and pixels survive both paths; NaN from a model is an error.
 */

const tmp = mkdtempSync(join(tmpdir(), 'stream-sr-negotiation-'));
const out = (name: string) => join(tmp, name);

/** 96x64 frames that differ (frame number burnt in), tagged as asked, coded losslessly. */
function clip(name: string, pixFmt: string, color: string[], frames = 4): string {
  const path = out(name);
  const matrix = color[1] === 'bt709' ? 'bt709' : 'bt601';
  const range = color[3] === 'pc' ? 'pc' : 'tv';
  ffmpeg(['-f', 'lavfi', '-i', `testsrc2=size=96x64:rate=25:duration=${frames / 25}`, '-vf', `drawtext=text=%{n}:x=8:y=8:fontsize=24:fontcolor=white,scale=out_color_matrix=${matrix}:out_range=${range}`, '-pix_fmt', pixFmt, ...color, '-c:v', 'ffv1', '-f', 'matroska', path]);
  return path;
}

const BT709_TV = ['-colorspace', 'bt709', '-color_range', 'tv', '-color_primaries', 'bt709', '-color_trc', 'bt709'];
const BT601_PC = ['-colorspace', 'smpte170m', '-color_range', 'pc', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m'];

/** Raw planes of every frame, as ffmpeg decodes them (no conversion: the file's own format). */
function rawPlanes(path: string, pixFmt: string, filter?: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', path, ...(filter ? ['-vf', filter] : []), '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'], { maxBuffer: 1 << 28 });
}

async function takeFrames(source: AvSource, count: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const f of source.frames({ credit: new Credit(count + 1), signal: new AbortController().signal, stats: new RunStats() })) {
    frames.push(f);
    if (frames.length >= count) break;
  }
  return frames;
}

function maxDifference(a: Buffer, b: Buffer, bytes: 1 | 2): number {
  let worst = 0;
  for (let i = 0; i < a.length; i += bytes) worst = Math.max(worst, Math.abs((bytes === 1 ? a[i]! : a.readUInt16LE(i)) - (bytes === 1 ? b[i]! : b.readUInt16LE(i))));
  return worst;
}

function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

t.test('bicubic runs in swscale on the native format and matches ffmpeg scale=flags=bicubic', async (t) => {
  for (const [pixFmt, bytes] of [['yuv420p', 1], ['yuv420p10le', 2], ['yuv444p', 1]] as const) {
    const input = clip(`native-${pixFmt}.mkv`, pixFmt, BT709_TV);
    const result = out(`native-${pixFmt}-x4.mkv`);
    const r = runCli(['-i', input, '-o', result, '--model', 'bicubic', '-c:v', 'ffv1', '-y']);
    t.equal(r.code, 0, `${pixFmt}: exit 0 (${r.stderr.trim().split('\n').at(-1)})`);
    t.match(r.stderr, new RegExp(`formats: ${pixFmt} → bicubic → ${pixFmt}\\b`), `${pixFmt}: the start line shows no float stage`);
    const ours = rawPlanes(result, pixFmt);
    const reference = rawPlanes(input, pixFmt, 'scale=iw*4:ih*4:flags=bicubic');
    t.equal(ours.length, reference.length, `${pixFmt}: same number of frames and size (${probeVideoFrames(result).length} frames)`);
    const worst = maxDifference(ours, reference, bytes);
    t.ok(worst <= 1, `${pixFmt}: at most 1 level from ffmpeg's own bicubic (max ${worst})`);
    const streams = probeStreams(result)[0]!;
    t.same([streams.pix_fmt, streams.color_space, streams.color_range], [pixFmt, 'bt709', 'tv'], `${pixFmt}: format and colour tags kept`);
  }
});

t.test('colour through float RGB: BT.709 limited and BT.601 full range keep their tags and their pixels', async (t) => {
  for (const [name, color, tags] of [['bt709-tv', BT709_TV, ['bt709', 'tv']], ['bt601-pc', BT601_PC, ['smpte170m', 'pc']]] as const) {
    const input = clip(`colour-${name}.mkv`, 'yuv444p', color);
    const result = out(`colour-${name}-x4.mkv`);
    // --tile runs the model on float RGB tiles: the float path, both conversions
    const r = runCli(['-i', input, '-o', result, '--model', 'bicubic', '--tile', '48', '--tile-overlap', '8', '-c:v', 'ffv1', '-y']);
    t.equal(r.code, 0, `${name}: exit 0`);
    t.match(r.stderr, /formats: yuv444p → float RGB → bicubic → float RGB → yuv444p/, `${name}: one conversion in, one out`);
    const streams = probeStreams(result)[0]!;
    t.same([streams.color_space, streams.color_range], tags, `${name}: tags kept`);
    // decode both with ffmpeg as players would (by the tags): ours against ffmpeg's own scaler
    const reference = rawPlanes(input, 'rgb24', 'scale=iw*4:ih*4:flags=bicubic');
    const ours = rawPlanes(result, 'rgb24');
    const right = meanDifference(ours, reference);
    // the same output read with the other matrix and the other range: what a swap would look like
    const [wrongMatrix, wrongRange] = name === 'bt709-tv' ? ['bt601', 'pc'] : ['bt709', 'tv'];
    const swappedMatrix = meanDifference(rawPlanes(result, 'rgb24', `scale=in_color_matrix=${wrongMatrix}:in_range=${tags[1]}`), reference);
    const swappedRange = meanDifference(rawPlanes(result, 'rgb24', `scale=in_color_matrix=${name === 'bt709-tv' ? 'bt709' : 'bt601'}:in_range=${wrongRange}`), reference);
    t.ok(right < 1.5, `${name}: mean difference from ffmpeg's bicubic ${right.toFixed(3)} levels (< 1.5)`);
    t.ok(swappedMatrix > 2 * right && swappedMatrix > 1.5, `${name}: a swapped matrix would be seen (${swappedMatrix.toFixed(3)} levels)`);
    t.ok(swappedRange > 2 * right && swappedRange > 1.5, `${name}: a swapped range would be seen (${swappedRange.toFixed(3)} levels)`);
  }
});

t.test('an untagged SD input, upscaled to 720 lines without touching its YUV, is tagged BT.601 as its pixels are, not BT.709', async (t) => {
  // players read untagged SD as BT.601; tagging the unconverted output by its own (HD) size made them show it shifted
  const input = out('untagged-320x180.mkv');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=0.12', '-vf', 'drawtext=text=%{n}:x=8:y=8:fontsize=24:fontcolor=white', '-pix_fmt', 'yuv420p', '-c:v', 'ffv1', '-f', 'matroska', input]);
  t.equal(probeStreams(input)[0]!.color_space, undefined, 'the input states no matrix');
  const reference = rawPlanes(input, 'rgb24', 'scale=iw*4:ih*4:flags=bicubic');
  for (const model of ['bicubic', 'causal-sr']) {
    const result = out(`untagged-${model}-x4.mkv`);
    const r = runCli(['-i', input, '-o', result, '--model', model, '-c:v', 'ffv1', '-y']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, new RegExp(`formats: yuv420p → ${model} → yuv420p\\n`), `${model}: the YUV goes through unconverted`);
    const s = probeStreams(result)[0]!;
    t.same([s.color_space, s.color_primaries, s.color_transfer, s.color_range], ['smpte170m', 'smpte170m', 'smpte170m', 'tv'], `${model}: 1280x720 tagged as the input's pixels are`);
    const right = meanDifference(rawPlanes(result, 'rgb24'), reference);
    t.ok(right < (model === 'bicubic' ? 1.5 : 4), `${model}: read by its tags, ${right.toFixed(3)} levels from ffmpeg's bicubic of the input`);
  }
});

t.test('an input format the encoder does not take is named in a warning; yuvj420p written as full-range yuv420p is not', async (t) => {
  const rgb = clip('warn-rgb24.mkv', 'rgb24', []);
  const r = runCli(['-i', rgb, '-o', out('warn-rgb24.mp4'), '--model', 'bicubic', '-y']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /warning: libx264 does not take bgr0; writing yuv444p/, "ffv1 stores rgb24 as bgr0, which libx264 does not take");
  const full = out('warn-yuvj.avi');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=0.12', '-pix_fmt', 'yuvj420p', '-c:v', 'mjpeg', full]);
  const j = runCli(['-i', full, '-o', out('warn-yuvj.mp4'), '--model', 'bicubic', '-y']);
  t.equal(j.code, 0, j.stderr);
  t.notMatch(j.stderr, /does not take/, 'no warning: the same pixels, the range in the tags');
  t.same([probeStreams(out('warn-yuvj.mp4'))[0]!.color_range], ['pc'], 'full range kept');
});

t.test('a tee converts the model output once for all its outputs', async (t) => {
  const models = out('models');
  writeHistoryModel(models, 4);
  const input = clip('tee.mkv', 'yuv420p', BT709_TV, 6);
  const spec = pipelineFromData({ source: { url: input }, model: { id: 'history-test', modelDirs: [models] }, sinks: [{ url: out('tee-a.mkv') }, { url: out('tee-b.mkv') }] }, 'tee.yaml');
  const log = memoryLogger();
  const { summary } = await runSpec(spec, { log, signal: new AbortController().signal });
  t.equal(summary.framesOut, 6);
  t.equal(summary.stats.get('conversionsIn'), 6, 'one conversion into float RGB per frame');
  t.equal(summary.stats.get('conversionsOut'), 6, 'one conversion out per frame, not one per output');
  t.same([probeVideoFrames(out('tee-a.mkv')).length, probeVideoFrames(out('tee-b.mkv')).length], [6, 6], 'both outputs have every frame');
  t.ok(rawPlanes(out('tee-a.mkv'), 'yuv420p').equals(rawPlanes(out('tee-b.mkv'), 'yuv420p')), 'and the same pictures');
});

t.test('a tee gives each output its own picture over the same pixels (each encoder sets pts and keyframes in place)', async (t) => {
  const source = new AvSource({ input: clip('tee-own.mkv', 'yuv420p', BT709_TV, 2) });
  await source.open();
  const [decoded] = await takeFrames(source, 1);
  await source.close();
  const seen: Frame[] = [];
  const sink = (): Sink => ({ label: 's', warnings: [], open: async () => undefined, accepts: () => null, describe: () => 's', writeCopy: async () => undefined, close: async () => undefined, write: async (f) => void seen.push(f) });
  await new TeeSink([sink(), sink()]).write(decoded!);
  const [a, b] = seen.map((f) => f as Frame & { picture: { handle: { data: Buffer[]; pict_type: unknown } } });
  t.not(a!.picture.handle, b!.picture.handle, 'two AVFrames');
  t.ok(a!.picture.handle.data.every((plane, i) => plane.equals(b!.picture.handle.data[i]!)), 'with the same pixels');
  a!.picture.handle.pict_type = 'I';
  t.equal(b!.picture.handle.pict_type, null, 'a keyframe forced on one output is not forced on the other');
});

t.test('a tee copies audio packets unchanged into every output (no padding bytes in the second copy)', async (t) => {
  const input = clips.withAac();
  const spec = pipelineFromData({ source: { url: input }, model: { id: 'bicubic', scale: 2 }, sinks: [{ url: out('audio-a.mkv') }, { url: out('audio-b.mkv') }] }, 'audio.yaml');
  await runSpec(spec, { log: memoryLogger(), signal: new AbortController().signal });
  const source = packetMd5s(input, 'a:0');
  t.ok(source.length > 10, `${source.length} AAC packets in the input`);
  t.same(packetMd5s(out('audio-a.mkv'), 'a:0'), source, 'first output: every audio packet as in the input');
  t.same(packetMd5s(out('audio-b.mkv'), 'a:0'), source, 'second output: the same');
});

t.test('NaN in a model output is an error naming the model and the frame, not a black frame', async (t) => {
  const dir = out('nan-model');
  mkdirSync(dir, { recursive: true });
  const g = new GraphBuilder('nan');
  g.input('input', 'float32', [1, 3, 'h', 'w']);
  const scales = g.constant('scales', 'float32', [4], [1, 1, 4, 4]);
  const roi = g.constant('roi', 'float32', [0], []);
  const up = g.op('Resize', ['input', roi, scales], { mode: 'nearest' });
  g.op('Sqrt', [g.op('Sub', [up, g.constant('two', 'float32', [], [2])])], {}, 'output'); // sqrt(x − 2): NaN for every pixel
  g.output('output', 'float32', [1, 3, 'oh', 'ow']);
  writeFileSync(join(dir, 'nan-x4.onnx'), encodeModel(g));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'stream-sr-model/1', id: 'nan-test', kind: 'frame-graph', variants: [{ scale: 4, file: 'nan-x4.onnx' }], inputs: { frame: 'input' }, output: 'output', layout: 'NCHW', range: [0, 1], history: false }));
  const r = runCli(['-i', clip('nan.mkv', 'yuv420p', BT709_TV), '-o', out('nan-x4.mkv'), '--model', join(dir, 'model.json'), '-y']);
  t.equal(r.code, 1, 'a runtime failure: exit 1');
  t.match(r.stderr, /model nan-test gave NaN in frame 0/, 'names the model and the frame');
});

t.test('PNG files end at their IEND chunk (no packet padding) and ffmpeg reads them without complaint', async (t) => {
  const frames = out('png-in');
  mkdirSync(join(frames, 'seq'), { recursive: true });
  ffmpeg(['-i', clip('png.mkv', 'yuv420p', BT709_TV, 2), '-pix_fmt', 'rgb24', join(frames, 'seq', '%03d.png')]);
  const dir = out('png-out');
  const r = runCli(['frames', '--in_path', frames, '--out_path', dir, '--model', 'bicubic', '-y']);
  t.equal(r.code, 0, `frames mode: exit 0 ${r.stderr.split('\n').at(-2) ?? ''}`);
  const seq = join(dir, 'png-in', 'seq');
  const written = readdirSync(seq).filter((n) => n.endsWith('.png'));
  t.same(written, ['001.png', '002.png']);
  for (const name of written) {
    const bytes = readFileSync(join(seq, name));
    t.same(Array.from(bytes.subarray(-12)), [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82], `${name}: the last 12 bytes are the IEND chunk`);
    const check = spawnSync('ffmpeg', ['-v', 'warning', '-i', join(seq, name), '-f', 'null', '-'], { encoding: 'utf8' });
    t.same([check.status, check.stderr], [0, ''], `${name}: ffmpeg decodes it without a warning`);
  }
});

// Seconds per frame of a causal SR ONNX file in onnxruntime-node (CPU, 2 intra-op threads by default),
// fed like the superResolve operator feeds it: the previous input and the previous (clamped) output.
//   node models/train/bench-ort.mjs MODEL.onnx SCALE [WIDTH HEIGHT FRAMES THREADS CHANNELS]
// CHANNELS: 3 for RGB graphs (the default), 1 for luma ones.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const [file, scaleArg, wArg = '320', hArg = '180', framesArg = '12', threadsArg = '2', channelsArg = '3'] = process.argv.slice(2);
const scale = Number(scaleArg), w = Number(wArg), h = Number(hArg), frames = Number(framesArg), c = Number(channelsArg);
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: Number(threadsArg), interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
});
const names = session.inputNames;
const rand = (n) => Float32Array.from({ length: n }, () => Math.random());
let prevIn = new Float32Array(c * w * h), prevOut = new Float32Array(c * w * h * scale * scale);
const times = [];
for (let i = 0; i < frames; i++) {
  const cur = rand(c * w * h);
  const feeds = { [names.includes('frame') ? 'frame' : names[0]]: new ort.Tensor('float32', cur, [1, c, h, w]) };
  if (names.includes('previousFrame')) feeds.previousFrame = new ort.Tensor('float32', prevIn, [1, c, h, w]);
  if (names.includes('previousOutput')) feeds.previousOutput = new ort.Tensor('float32', prevOut, [1, c, h * scale, w * scale]);
  const t0 = process.hrtime.bigint();
  const out = await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  const data = out[session.outputNames[0]].data;
  for (let k = 0; k < data.length; k++) data[k] = Math.min(1, Math.max(0, data[k]));
  prevIn = cur; prevOut = data;
}
const steady = times.slice(2).sort((a, b) => a - b);
const median = steady[Math.floor(steady.length / 2)];
process.stdout.write(JSON.stringify({ file, scale, input: `${w}x${h}`, channels: c, frames, threads: Number(threadsArg), median_s: +median.toFixed(4), min_s: +steady[0].toFixed(4) }) + '\n');

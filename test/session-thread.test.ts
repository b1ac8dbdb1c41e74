import t from 'tap';
import { join } from 'node:path';
import { OnnxSession, type SessionSettings } from '../src/inference/session.js';
import { ort, type Ort } from '../src/inference/ort.js';
import { silentLogger } from '../src/core/log.js';
import { packageRoot } from '../src/core/package-root.js';

// causal-sr x4 at 640x360 in: about 0.2 s of inference per run on two cores, long enough to see
// whether the main thread is free meanwhile
const graph = join(packageRoot(), 'models', 'causal-sr', 'causal-sr-x4.onnx');
const H = 360;
const W = 640;

function feeds(): Record<string, Ort.Tensor> {
  const T = ort().Tensor;
  const plane = (h: number, w: number, f: (i: number) => number) => new T('float32', Float32Array.from({ length: h * w }, (_, i) => f(i)), [1, 1, h, w]);
  return {
    frame: plane(H, W, (i) => ((i * 7919) % 256) / 255),
    previousFrame: plane(H, W, (i) => ((i * 104729) % 256) / 255),
    previousOutput: plane(4 * H, 4 * W, (i) => ((i * 31) % 256) / 255),
  };
}

const settings = (thread: 'worker' | 'main'): SessionSettings => ({ device: { device: 'cpu' }, threads: 2, thread, log: silentLogger });

/** Runs once while a 5 ms timer ticks; the longest gap between ticks (or until the end) and the run's time. */
async function runWhileTicking(session: OnnxSession, input: Record<string, Ort.Tensor>): Promise<{ ms: number; longestGapMs: number; ticks: number; output: Float32Array }> {
  let last = performance.now();
  let longestGapMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  const out = await session.run(input, 'test');
  const ms = performance.now() - t0;
  clearInterval(timer);
  longestGapMs = Math.max(longestGapMs, performance.now() - last);
  return { ms, longestGapMs, ticks, output: out.output!.data as Float32Array };
}

t.test('a run on the ONNX Runtime thread leaves the main thread free, with the same values as a run on the main thread', async (t) => {
  const input = feeds();
  const onThread = await OnnxSession.create('causal-sr', graph, settings('worker'));
  const onMain = await OnnxSession.create('causal-sr', graph, settings('main'));
  t.teardown(() => Promise.all([onThread.release(), onMain.release()]));
  await onThread.run(input, 'warm-up');
  await onMain.run(input, 'warm-up');

  const threaded = await runWhileTicking(onThread, input);
  const blocking = await runWhileTicking(onMain, input);
  // the main-thread run shows what the check would catch: one gap as long as the run
  t.ok(blocking.longestGapMs > blocking.ms * 0.8, `on the main thread the timer stops for the run (${blocking.longestGapMs.toFixed(0)} ms gap in a ${blocking.ms.toFixed(0)} ms run)`);
  t.ok(threaded.longestGapMs < threaded.ms / 2, `on its own thread the timer keeps ticking (${threaded.ticks} ticks, longest gap ${threaded.longestGapMs.toFixed(0)} ms in a ${threaded.ms.toFixed(0)} ms run)`);
  t.same(threaded.output.length, 16 * H * W, 'a full-size output');
  let differ = 0;
  for (let i = 0; i < threaded.output.length; i++) if (threaded.output[i] !== blocking.output[i]) differ++;
  t.equal(differ, 0, 'the same kernels on either thread: identical values');
  // the caller's feeds are copied, never detached
  t.equal((input.frame!.data as Float32Array).length, H * W, 'the feeds are still readable after the run');
});

t.test('a preallocated output is filled; a feed that does not fit the graph names the model, stage and tensor', async (t) => {
  const session = await OnnxSession.create('causal-sr', graph, settings('worker'));
  t.teardown(() => session.release());
  const input = feeds();
  const output = new (ort().Tensor)('float32', new Float32Array(16 * H * W), [1, 1, 4 * H, 4 * W]);
  const result = await session.run(input, 'preallocated', { output });
  t.equal(result.output, output, 'the tensor given is the one returned');
  t.ok((output.data as Float32Array).some((v) => v !== 0), 'and it holds the result');
  const small = new (ort().Tensor)('float32', new Float32Array(4), [1, 1, 2, 2]);
  await t.rejects(session.run({ ...input, previousOutput: small }, 'frame 7'), /model causal-sr \(frame 7\): inference failed/, 'an ONNX Runtime error comes back as an InferenceError naming the model and stage');
  const after = await session.run(input, 'after a failure');
  t.ok(after.output, 'the thread serves runs after a failed one');
});

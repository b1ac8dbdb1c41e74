import t from 'tap';
import { Credit } from '../src/core/credit.js';
import { runPipeline } from '../src/pipeline/run.js';
import { SyntheticSource } from '../src/sources/synthetic.js';
import { NullSink } from '../src/sinks/null-sink.js';
import { identity } from '../src/operators/identity.js';
import { memoryLogger } from '../src/core/log.js';
import { PipelineError } from '../src/core/errors.js';
import { RecordingModel } from './helpers/harness.js';

t.test('Credit bounds holders and wakes waiters in order', async (t) => {
  const c = new Credit(2);
  await c.acquire();
  await c.acquire();
  t.equal(c.inFlight, 2);
  const order: number[] = [];
  const a = c.acquire().then(() => order.push(1));
  const b = c.acquire().then(() => order.push(2));
  c.release();
  await a;
  c.release();
  await b;
  t.same(order, [1, 2]);
  t.equal(c.peakInFlight, 2);
  t.throws(() => new Credit(0));
  const ac = new AbortController();
  const waiting = c.acquire(ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(waiting, /stop/);
});

for (const n of [1, 2, 3]) {
  t.test(`with a slow model, frames in flight never exceed ${n}`, async (t) => {
    const credit = new Credit(n);
    const seen: number[] = [];
    const source = new SyntheticSource({ width: 8, height: 6, frames: 30, onProduce: (_i, inFlight) => seen.push(inFlight) });
    const sink = new NullSink({ onWrite: () => void seen.push(credit.inFlight) });
    const summary = await runPipeline({ source, model: new RecordingModel(2, true, { delayMs: 5 }), sink, credit, log: memoryLogger() });
    t.equal(summary.framesOut, 30);
    t.ok(Math.max(...seen) <= n, `max in flight ${Math.max(...seen)} <= ${n}`);
    t.equal(summary.peakInFlight, n, 'the bound was reached, so it was what held the decoder back');
    t.equal(credit.inFlight, 0, 'every credit returned');
  });
}

t.test('a slow sink holds the source back too', async (t) => {
  const credit = new Credit(2);
  let produced = 0;
  let written = 0;
  let maxAhead = 0;
  const source = new SyntheticSource({ width: 8, height: 6, frames: 20, onProduce: () => (produced++, (maxAhead = Math.max(maxAhead, produced - written))) });
  const sink = new NullSink({ onWrite: async () => { await new Promise((r) => setTimeout(r, 10)); written++; } });
  await runPipeline({ source, model: new RecordingModel(2, false), sink, credit, log: memoryLogger() });
  t.ok(maxAhead <= 2, `the source was at most ${maxAhead} frames ahead of the sink`);
});

t.test('an injected failure stops the run, closes the sink with error, disposes the model', async (t) => {
  const model = new RecordingModel(2, true);
  const sink = new NullSink({ keep: true });
  const run = runPipeline({ source: new SyntheticSource({ width: 8, height: 6, frames: 50 }), model, sink, before: [identity({ errorAfter: 5, name: 'fault' })], log: memoryLogger() });
  const err = await run.then(() => undefined, (e: unknown) => e);
  t.type(err, PipelineError);
  t.equal((err as PipelineError).stage, 'fault');
  t.equal(sink.frames.length, 5);
  t.equal(sink.closedWith, 'error');
  t.ok(model.disposed);
});

t.test('end of stream early (eosAfter) completes normally', async (t) => {
  const sink = new NullSink({ keep: true });
  const summary = await runPipeline({ source: new SyntheticSource({ width: 8, height: 6, frames: 50 }), model: new RecordingModel(), sink, before: [identity({ eosAfter: 7 })], log: memoryLogger() });
  t.equal(sink.frames.length, 7);
  t.equal(summary.state, 'completed');
  t.equal(sink.closedWith, 'eof');
});

t.test('dropped frames return their credit', async (t) => {
  const credit = new Credit(2);
  const sink = new NullSink({ keep: true });
  await runPipeline({
    source: new SyntheticSource({ width: 8, height: 6, frames: 12 }),
    model: new RecordingModel(),
    sink,
    credit,
    before: [identity({ dropEvery: 3, onDrop: () => credit.release() })],
    log: memoryLogger(),
  });
  t.same(sink.frames.map((f) => f.index), [0, 1, 3, 4, 6, 7, 9, 10], 'gaps in index show the drops');
  t.equal(credit.inFlight, 0);
});

t.test('aborting the signal ends the input and finishes the output as aborted', async (t) => {
  const ac = new AbortController();
  const sink = new NullSink({ keep: true, onWrite: (f) => void (f.index === 4 && ac.abort()) });
  const summary = await runPipeline({ source: new SyntheticSource({ width: 8, height: 6, frames: Infinity }), model: new RecordingModel(), sink, signal: ac.signal, log: memoryLogger() });
  t.equal(summary.state, 'aborted');
  t.equal(sink.closedWith, 'abort');
  t.ok(sink.frames.length >= 5 && sink.frames.length <= 7, `frames in flight finished (${sink.frames.length})`);
});

t.test('the hard signal stops at once, even mid-inference', async (t) => {
  const soft = new AbortController();
  const hard = new AbortController();
  const sink = new NullSink({ keep: true });
  const model = new RecordingModel(2, true, { delayMs: 200, onRun: () => setTimeout(() => (soft.abort(), hard.abort()), 20) });
  const summary = await runPipeline({ source: new SyntheticSource({ width: 8, height: 6, frames: Infinity }), model, sink, signal: soft.signal, hardSignal: hard.signal, log: memoryLogger() });
  t.equal(summary.state, 'aborted');
  t.equal(sink.frames.length, 0);
});

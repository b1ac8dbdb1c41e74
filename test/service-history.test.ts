import t from 'tap';
import { PipelineHistory } from '../src/service/history.js';
import { EMPTY_METRICS } from '../src/pipeline/run-meter.js';
import type { PipelineStatus } from '../src/pipeline/supervisor.js';

const status = (outputFps: number): PipelineStatus => ({ id: 'p', state: 'running', description: null, restarts: 0, lastError: null, pid: null, metrics: { ...EMPTY_METRICS, outputFps } });

t.test('the history keeps the last samples and log lines only, oldest dropped first', async (t) => {
  const h = new PipelineHistory(300, 200);
  for (let i = 0; i < 1000; i++) h.sample(status(i), i * 1000);
  for (let i = 0; i < 500; i++) h.log(`line ${i}`);
  const v = h.view();
  t.equal(v.samples.length, 300, 'five minutes at one a second');
  t.equal(v.samples[0]!.outputFps, 700, 'the oldest kept is the 700th');
  t.equal(v.samples.at(-1)!.outputFps, 999);
  t.equal(v.log.length, 200);
  t.equal(v.log[0]!.line, 'line 300');
  t.equal(v.log.at(-1)!.line, 'line 499');
});

/**
 * The thread ONNX Runtime runs on (session-thread.ts starts it). onnxruntime-node's run() computes
 * on the thread that calls it; here that is this one, so the main thread stays free to read live
 * inputs, decode, convert and encode while a frame is inferred. Requests are served one at a time,
 * in the order they come, as they were on the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { errorMessage } from '../core/errors.js';
import { ort, type Ort } from './ort.js';
import { buffers, type Reply, type Request, type WireTensor } from './session-thread-protocol.js';

const sessions = new Map<number, Ort.InferenceSession>();
let nextSession = 1;

async function serve(r: Request): Promise<{ reply: Reply; transfer?: ArrayBuffer[] }> {
  switch (r.op) {
    case 'create': {
      const session = typeof r.model === 'string' ? await ort().InferenceSession.create(r.model, r.options) : await ort().InferenceSession.create(r.model, r.options);
      const id = nextSession++;
      sessions.set(id, session);
      return { reply: { id: r.id, session: id, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata } };
    }
    case 'run': {
      const session = sessions.get(r.session);
      if (!session) throw new Error(`session ${r.session} was released`);
      const Tensor = ort().Tensor;
      const feeds: Record<string, Ort.Tensor> = {};
      for (const [name, t] of Object.entries(r.feeds)) feeds[name] = new Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
      const result = r.fetches ? await session.run(feeds, [...r.fetches]) : await session.run(feeds);
      const outputs: Record<string, WireTensor> = {};
      const owners = new Set<ArrayBuffer>();
      for (const [name, t] of Object.entries(result)) {
        let data = t.data as unknown as ArrayBufferView & { slice(): ArrayBufferView };
        // two outputs on one buffer, or a view on part of one: give this one a buffer of its own
        if (owners.has(data.buffer as ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice() as typeof data;
        owners.add(data.buffer as ArrayBuffer);
        outputs[name] = { type: t.type, dims: [...t.dims], data };
      }
      return { reply: { id: r.id, outputs }, transfer: buffers(outputs) };
    }
    case 'release': {
      await sessions.get(r.session)?.release();
      sessions.delete(r.session);
      return { reply: { id: r.id, released: true } };
    }
  }
}

let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (r: Request) => {
  queue = queue.then(async () => {
    let answer: { reply: Reply; transfer?: ArrayBuffer[] };
    try {
      answer = await serve(r);
    } catch (err) {
      answer = { reply: { id: r.id, error: errorMessage(err) } };
    }
    try {
      parentPort!.postMessage(answer.reply, answer.transfer ?? []);
    } catch {
      // a buffer ONNX Runtime does not let go of: send copies
      parentPort!.postMessage(answer.reply);
    }
  });
});

/**
 * ONNX Runtime on a thread of its own. onnxruntime-node's run() blocks the thread that calls it for
 * the whole inference (50 ms a frame for causal-sr x4 here), and on the main thread that stalls
 * everything else the pipeline does meanwhile: a live input's reader then reads one packet per
 * frame inferred, the network backlog grows, and `--live-policy drop` falls seconds behind instead
 * of dropping. One worker thread per process hosts every session; its requests are served in
 * order, one at a time, as they were on the main thread. Tensors cross as copies (feeds) and
 * transferred buffers (results), so no caller's buffer is ever detached or shared. Pipelines with
 * a live input ask for it (SessionSettings.thread, set in buildPipeline); files and pipes wait for
 * the pull anyway and keep the main thread, which spares them the copies.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ort, type Ort } from './ort.js';
import { buffers, toWire, type Reply, type Request } from './session-thread-protocol.js';

/** What OnnxSession needs of a session, whichever thread runs it. */
export interface RunnableSession {
  readonly inputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, Ort.Tensor>, fetches?: Ort.InferenceSession.FetchesType): Promise<Record<string, Ort.Tensor>>;
  release(): Promise<void>;
}

/** Request without its id (each variant keeps its own fields). */
type Ask = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

function workerFile(): string {
  const js = fileURLToPath(new URL('./session-worker.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./session-worker.ts', import.meta.url));
}

class SessionThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  ask(request: Ask, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const worker = this.start();
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    worker.ref(); // an answer being waited for keeps the process alive; an idle thread does not
    worker.postMessage({ ...request, id }, transfer);
    return reply.then((r) => {
      if ('error' in r) throw new Error(r.error);
      return r;
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile());
    worker.unref();
    worker.on('message', (r: Reply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) worker.unref();
      w?.resolve(r);
    });
    const fail = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', (err) => fail(new Error(`the ONNX Runtime thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`the ONNX Runtime thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

let thread: SessionThread | undefined;

/** Creates a session on the ONNX Runtime thread; `model` is a path or the graph's bytes. */
export async function createThreadSession(model: string | Uint8Array, options: Ort.InferenceSession.SessionOptions): Promise<RunnableSession> {
  thread ??= new SessionThread();
  const t = thread;
  // bytes are copied, never transferred: the caller may keep its graph
  const created = await t.ask({ op: 'create', model: typeof model === 'string' ? model : model.slice(), options });
  if (!('session' in created)) throw new Error('the ONNX Runtime thread did not create a session');
  const session = created.session;
  let released = false;
  return {
    inputMetadata: created.inputMetadata,
    outputMetadata: created.outputMetadata,
    async run(feeds, fetches) {
      const wire = Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, toWire(tensor)]));
      const preallocated = fetches && !Array.isArray(fetches) ? (fetches as Record<string, Ort.Tensor>) : undefined;
      const names = preallocated ? Object.keys(preallocated) : (fetches as readonly string[] | undefined);
      const reply = await t.ask({ op: 'run', session, feeds: wire, ...(names ? { fetches: names } : {}) }, buffers(wire));
      if (!('outputs' in reply)) throw new Error('the ONNX Runtime thread returned no outputs');
      const Tensor = ort().Tensor;
      const out: Record<string, Ort.Tensor> = {};
      for (const [name, w] of Object.entries(reply.outputs)) {
        const into = preallocated?.[name];
        if (into) {
          // the caller's tensor is filled, as ONNX Runtime fills a preallocated output
          const target = into.data as Float32Array;
          if (target.length !== (w.data as Float32Array).length) throw new Error(`output '${name}' is ${w.dims.join('x')}, the tensor given for it holds ${target.length} values`);
          target.set(w.data as Float32Array);
          out[name] = into;
        } else {
          out[name] = new Tensor(w.type as 'float32', w.data as Float32Array, w.dims);
        }
      }
      return out;
    },
    async release() {
      if (released) return;
      released = true;
      await t.ask({ op: 'release', session });
    },
  };
}

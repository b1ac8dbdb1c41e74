/**
 * One ONNX Runtime session per graph of an export, opened for one LR resolution and reopened only
 * for the graphs whose file or static shapes do not fit a new resolution. Each session's tensor
 * names and static dimensions are checked against the spec's interface when it opens.
 */
import { UsageError } from '../../core/errors.js';
import type { Ort } from '../ort.js';
import { OnnxSession, describeShape, type SessionSettings } from '../session.js';
import type { DiffVsrExport, GraphEntry, GraphFile, GraphName } from './export-manifest.js';
import { EXPORT_HELP } from './export-manifest.js';
import { GRAPH_IO, inputShapes } from './interface.js';
import { withEnv } from '../tensorrt.js';

/** Called after every session run (tests count calls and check the tensors fed). */
export type RunHook = (graph: GraphName, feeds: Readonly<Record<string, Ort.Tensor>>, outputs: Readonly<Record<string, Ort.Tensor>>) => void;

interface OpenGraph {
  readonly session: OnnxSession;
  readonly file: string;
}

function fileFor(exp: DiffVsrExport, entry: GraphEntry, h: number, w: number, fp16: boolean): GraphFile {
  const profile = exp.profiles.find((p) => p.lr[0] === h && p.lr[1] === w);
  const file = (profile && entry.profileFiles[profile.name]) || entry;
  return fp16 && file.fp16 ? file.fp16 : file;
}

function describeProfiles(exp: DiffVsrExport): string {
  return exp.profiles.length ? exp.profiles.map((p) => `${p.name} (LR ${p.lr[1]}x${p.lr[0]})`).join(', ') : 'none';
}

/** Names must be the spec's; numeric dimensions must fit this resolution. */
function checkInterface(exp: DiffVsrExport, name: GraphName, s: OnnxSession, h: number, w: number): void {
  const io = GRAPH_IO[name];
  const file = s.path;
  for (const input of io.inputs) {
    if (!s.inputs.has(input)) throw new UsageError(`Stream-DiffVSR export: ${file} (graph ${name}) has no input '${input}' (inputs: ${[...s.inputs.keys()].join(', ')}); ${EXPORT_HELP}`);
  }
  for (const output of io.outputs) {
    if (!s.outputs.has(output)) throw new UsageError(`Stream-DiffVSR export: ${file} (graph ${name}) has no output '${output}' (outputs: ${[...s.outputs.keys()].join(', ')}); ${EXPORT_HELP}`);
  }
  const expected = inputShapes(h, w, exp.textEmbedding.shape, exp.latentChannels);
  for (const [input, spec] of s.inputs) {
    const want = expected[input];
    if (!want) continue;
    const fits = spec.shape.length === want.length && spec.shape.every((d, i) => typeof d !== 'number' || d < 0 || want[i]! < 0 || d === want[i]);
    if (!fits) {
      throw new UsageError(
        `Stream-DiffVSR export: ${file} (graph ${name}) takes '${input}' ${describeShape(spec.shape)}, but LR frames of ${w}x${h} need ${describeShape(want.map((d) => (d < 0 ? 'C' : d)))}; ` +
          `the export's resolution profiles are ${describeProfiles(exp)}: export one for ${w}x${h} (or with dynamic shapes where the spec allows), ${EXPORT_HELP}`,
      );
    }
  }
}

function isNameList(o: Record<string, Ort.Tensor> | readonly string[]): o is readonly string[] {
  return Array.isArray(o);
}

export class GraphSet {
  private readonly open = new Map<GraphName, OpenGraph>();
  private size?: readonly [number, number];

  constructor(
    private readonly exp: DiffVsrExport,
    readonly names: readonly GraphName[],
    private readonly settings: SessionSettings,
    private readonly fp16: boolean,
    private readonly onRun?: RunHook,
    /** Where each graph's files are (default: the manifest's `graphs`; per-frame graphs come from `frame_graphs`). */
    private readonly entries: Readonly<Partial<Record<GraphName, GraphEntry>>> = exp.graphs,
    /** Environment for creating a graph's session (TensorRT's ORT_TENSORRT_* settings). */
    private readonly sessionEnv?: (name: GraphName, file: GraphFile) => Promise<Readonly<Record<string, string>>>,
  ) {}

  /** Opens (or keeps) every graph's session for LR frames of h × w. */
  async prepare(h: number, w: number): Promise<void> {
    if (this.size && this.size[0] === h && this.size[1] === w) return;
    for (const name of this.names) {
      const entry = this.entries[name];
      if (!entry) throw new UsageError(`Stream-DiffVSR export ${this.exp.path}: graph ${name} is missing (${EXPORT_HELP})`);
      const graphFile = fileFor(this.exp, entry, h, w, this.fp16);
      const file = graphFile.file;
      const current = this.open.get(name);
      if (current && current.file === file) {
        checkInterface(this.exp, name, current.session, h, w);
        continue;
      }
      if (current) await current.session.release();
      this.open.delete(name);
      const env = (await this.sessionEnv?.(name, graphFile)) ?? {};
      const session = await withEnv(env, () => OnnxSession.create(`stream-diffvsr/${name}`, file, this.settings));
      this.open.set(name, { session, file });
      checkInterface(this.exp, name, session, h, w);
    }
    this.size = [h, w];
  }

  /** The declared shape of a graph's input. */
  inputShape(name: GraphName, input: string): ReadonlyArray<number | string> | undefined {
    return this.session(name).inputs.get(input)?.shape;
  }

  /** Declared channel count of an input (residual and feature channels depend on the model). */
  channels(name: GraphName, input: string): number {
    const dim = this.session(name).inputs.get(input)?.shape[1];
    if (typeof dim !== 'number' || dim < 1) throw new UsageError(`Stream-DiffVSR export: graph ${name} input '${input}' has no fixed channel count (${EXPORT_HELP})`);
    return dim;
  }

  /** `outputs`: pre-allocated tensors ONNX Runtime writes into instead of allocating, or the names of the outputs wanted. */
  async run(name: GraphName, feeds: Record<string, Ort.Tensor>, stage: string, outputs?: Record<string, Ort.Tensor> | readonly string[]): Promise<Record<string, Ort.Tensor>> {
    const session = this.session(name);
    const returned = await session.run(feeds, `${name}, ${stage}`, outputs);
    // ONNX Runtime wrote into `outputs`; onnxruntime-node 1.30 also returns copies of them, which are dropped
    const out = outputs && !isNameList(outputs) ? { ...returned, ...outputs } : returned;
    this.onRun?.(name, feeds, out);
    return out;
  }

  providers(): string {
    const first = this.open.values().next().value;
    return first ? first.session.providers.join(',') : 'none';
  }

  async release(): Promise<void> {
    const sessions = [...this.open.values()];
    this.open.clear();
    this.size = undefined;
    for (const g of sessions) await g.session.release();
  }

  private session(name: GraphName): OnnxSession {
    const g = this.open.get(name);
    if (!g) throw new Error(`graph ${name} is not open`);
    return g.session;
  }
}

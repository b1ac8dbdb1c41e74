/**
 * Adds nodes, initializers and outputs to the graph of an existing ONNX model without decoding it:
 * protocol buffers merge repeated fields, so the new fields are appended to the GraphProto's bytes
 * (after its own nodes, so the order stays topological) and every other field is copied as it is.
 */
import { ProtoReader, ProtoWriter } from './protobuf.js';
import { writeNode, writeTensor, writeValueInfo, type NodeDef, type TensorData, type ValueInfo } from './graph.js';

export interface GraphTail {
  readonly nodes: readonly NodeDef[];
  readonly initializers?: readonly TensorData[];
  readonly outputs: readonly ValueInfo[];
}

const MODEL_GRAPH = 7;

/** The names of a model's graph outputs. */
export function graphOutputNames(model: Uint8Array): string[] {
  const names: string[] = [];
  const r = new ProtoReader(model);
  while (!r.done) {
    const f = r.next();
    if (f.field !== MODEL_GRAPH || f.wire !== 2) continue;
    const g = new ProtoReader(f.value as Uint8Array);
    while (!g.done) {
      const gf = g.next();
      if (gf.field !== 12 || gf.wire !== 2) continue;
      const v = new ProtoReader(gf.value as Uint8Array);
      while (!v.done) {
        const vf = v.next();
        if (vf.field === 1 && vf.wire === 2) names.push(new TextDecoder().decode(vf.value as Uint8Array));
      }
    }
  }
  return names;
}

/** The model with `tail` added to its graph. */
export function appendToModel(model: Uint8Array, tail: GraphTail): Uint8Array {
  const extra = new ProtoWriter();
  for (const n of tail.nodes) extra.message(1, (w) => writeNode(w, n));
  for (const t of tail.initializers ?? []) extra.message(5, (w) => writeTensor(w, t));
  for (const o of tail.outputs) extra.message(12, (w) => writeValueInfo(w, o));
  const added = extra.finish();
  const out = new ProtoWriter();
  const r = new ProtoReader(model);
  let graphs = 0;
  while (!r.done) {
    const { field, wire, value } = r.next();
    if (wire === 0) out.int(field, value as bigint);
    else if (wire === 2 && field === MODEL_GRAPH) {
      graphs++;
      const graph = value as Uint8Array;
      const merged = new Uint8Array(graph.length + added.length);
      merged.set(graph);
      merged.set(added, graph.length);
      out.bytes(field, merged);
    } else if (wire === 2) out.bytes(field, value as Uint8Array);
    else throw new RangeError(`ModelProto field ${field} has wire type ${wire}, which a model never uses`);
  }
  if (graphs !== 1) throw new RangeError(`the model holds ${graphs} graphs`);
  return out.finish();
}

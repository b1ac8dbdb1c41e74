import { ProtoWriter } from './protobuf.js';

/** ONNX TensorProto.DataType values for the element types we write. */
export const DataType = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
export type ElemType = keyof typeof DataType;

export type Dim = number | string;

export interface TensorData {
  readonly name: string;
  readonly type: ElemType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

export type AttributeValue = number | string | readonly number[] | readonly string[] | TensorData | { readonly float: number } | { readonly floats: readonly number[] };

export interface NodeDef {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly domain?: string;
}

export interface ValueInfo {
  readonly name: string;
  readonly type: ElemType;
  readonly shape: readonly Dim[];
}

/**
 * Builds an ONNX graph node by node. Integers in attributes are written as INT/INTS, numbers with
 * a fraction as FLOAT/FLOATS; wrap a whole-valued float as `{ float: 1 }` to force FLOAT.
 */
export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorData[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.outputs.push({ name, type, shape });
    return name;
  }

  constant(name: string, type: ElemType, dims: readonly number[], values: ArrayLike<number> | readonly bigint[]): string {
    const data = makeData(type, values);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new RangeError(`initializer ${name}: ${data.length} values for dims [${dims.join(',')}]`);
    this.initializers.push({ name, type, dims, data });
    return name;
  }

  /** Adds a node and returns its output names; `outputs` defaults to one fresh name. */
  node(op: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs?: readonly string[], domain?: string): string[] {
    const id = this.counter++;
    const outs = outputs ?? [`${op.toLowerCase()}_${id}`];
    this.nodes.push({ op, inputs, outputs: outs, name: `${op}_${id}`, attributes, ...(domain ? { domain } : {}) });
    return [...outs];
  }

  /** Single-output convenience. */
  op(op: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    return this.node(op, inputs, attributes, output ? [output] : undefined)[0]!;
  }
}

function makeData(type: ElemType, values: ArrayLike<number> | readonly bigint[]): TensorData['data'] {
  switch (type) {
    case 'float32':
      return Float32Array.from(values as ArrayLike<number>);
    case 'int32':
      return Int32Array.from(values as ArrayLike<number>);
    case 'int64':
      return BigInt64Array.from(Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v)));
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values as ArrayLike<number>);
    case 'float16':
      return Uint16Array.from(values as ArrayLike<number>);
    default:
      throw new RangeError(`unsupported initializer type ${type}`);
  }
}

export function writeTensor(w: ProtoWriter, t: TensorData): void {
  w.packedInts(1, t.dims);
  w.int(2, DataType[t.type]);
  w.string(8, t.name);
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  // raw_data is little-endian; every platform Node runs ONNX Runtime on is little-endian
  w.bytes(9, bytes);
}

export function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, DataType[v.type]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue): void {
  w.string(1, name);
  if (typeof value === 'number') {
    if (Number.isInteger(value)) w.int(3, value).int(20, ATTR.INT);
    else w.float(2, value).int(20, ATTR.FLOAT);
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, ATTR.STRING);
  } else if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      for (const s of value as readonly string[]) w.string(9, s);
      w.int(20, ATTR.STRINGS);
    } else if ((value as readonly number[]).every((v) => Number.isInteger(v))) {
      w.packedInts(8, value as readonly number[]).int(20, ATTR.INTS);
    } else {
      w.packedFloats(7, value as readonly number[]).int(20, ATTR.FLOATS);
    }
  } else if ('float' in value) {
    w.float(2, value.float).int(20, ATTR.FLOAT);
  } else if ('floats' in value) {
    w.packedFloats(7, value.floats).int(20, ATTR.FLOATS);
  } else {
    w.message(5, (t) => writeTensor(t, value as TensorData)).int(20, ATTR.TENSOR);
  }
}

export function writeNode(w: ProtoWriter, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes)) w.message(5, (a) => writeAttribute(a, k, v));
  if (n.domain) w.string(7, n.domain);
}

export interface ModelOptions {
  readonly opset?: number;
  readonly producer?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Serialises a graph as an ONNX ModelProto (IR version 8, default opset 17). */
export function encodeModel(graph: GraphBuilder, options: ModelOptions = {}): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 8);
  w.string(2, options.producer ?? 'stream-sr');
  w.string(3, '1');
  if (options.docString) w.string(6, options.docString);
  w.message(7, (g) => {
    for (const n of graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const i of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, o));
  });
  w.message(8, (o) => o.string(1, '').int(2, options.opset ?? 17));
  for (const [key, value] of Object.entries(options.metadata ?? {})) w.message(14, (m) => m.string(1, key).string(2, value));
  return w.finish();
}

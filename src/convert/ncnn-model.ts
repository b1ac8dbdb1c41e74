import { readFile } from 'node:fs/promises';
import { UsageError, errorMessage } from '../core/errors.js';
import { halvesToFloats } from './float16.js';

/** Parameter values of one ncnn layer line (`k=v`): numbers, or number lists for array keys. */
export type NcnnParams = ReadonlyMap<number, number | readonly number[]>;

export interface NcnnLayer {
  readonly type: string;
  readonly name: string;
  readonly bottoms: readonly string[];
  readonly tops: readonly string[];
  readonly params: NcnnParams;
  /** Weight blobs in the order the layer loads them (Convolution: weight, bias; PReLU: slope). */
  readonly weights: readonly Float32Array[];
}

export interface NcnnModel {
  readonly source: string;
  readonly layers: readonly NcnnLayer[];
}

const MAGIC = 7767517;
/** Layer types whose weights we know how to read, and the ones that carry none. */
export const NCNN_LAYERS = ['Input', 'Split', 'Convolution', 'PReLU', 'PixelShuffle', 'Interp', 'BinaryOp'] as const;

export async function readNcnnModel(paramPath: string, binPath: string): Promise<NcnnModel> {
  let param: string;
  let bin: Uint8Array;
  try {
    param = await readFile(paramPath, 'utf8');
    bin = await readFile(binPath);
  } catch (err) {
    throw new UsageError(`ncnn model ${paramPath}: cannot read it (${errorMessage(err)})`, { cause: err });
  }
  return parseNcnnModel(param, bin, paramPath);
}

export function parseNcnnModel(param: string, bin: Uint8Array, source = 'model.param'): NcnnModel {
  const fail = (msg: string): never => {
    throw new UsageError(`ncnn model ${source}: ${msg}`);
  };
  const lines = param.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (Number(lines[0]) !== MAGIC) fail(`not an ncnn text param file (first line ${JSON.stringify(lines[0] ?? '')}, expected ${MAGIC})`);
  const layerCount = Number((lines[1] ?? '').split(/\s+/)[0]);
  if (!layerCount || lines.length - 2 < layerCount) fail(`declares ${lines[1] ?? '?'} layers but has ${lines.length - 2} layer lines`);
  const reader = new BlobReader(bin, fail);
  const layers = lines.slice(2, 2 + layerCount).map((line) => {
    const layer = parseLayerLine(line, fail);
    return { ...layer, weights: readWeights(layer, reader, fail) };
  });
  if (!reader.atEnd()) fail(`${bin.length - reader.offset} bytes of the .bin file are left over after the last layer (param and bin do not match)`);
  return { source, layers };
}

function parseLayerLine(line: string, fail: (m: string) => never): Omit<NcnnLayer, 'weights'> {
  const parts = line.split(/\s+/);
  const [type, name, nb, nt] = parts;
  const bottomCount = Number(nb);
  const topCount = Number(nt);
  if (!type || !name || !Number.isInteger(bottomCount) || !Number.isInteger(topCount)) fail(`cannot read layer line '${line}'`);
  const bottoms = parts.slice(4, 4 + bottomCount);
  const tops = parts.slice(4 + bottomCount, 4 + bottomCount + topCount);
  const params = new Map<number, number | number[]>();
  for (const kv of parts.slice(4 + bottomCount + topCount)) {
    const m = /^(-?\d+)=(.*)$/.exec(kv) ?? fail(`layer ${name}: cannot read parameter '${kv}'`);
    const key = Number(m[1]);
    // array parameters are written under key -23300-id as "count,v1,v2,..."
    if (key <= -23300) params.set(-(key + 23300), m[2]!.split(',').slice(1).map(Number));
    else params.set(key, Number(m[2]));
  }
  return { type, name, bottoms, tops, params };
}

export function num(params: NcnnParams, key: number, fallback: number): number {
  const v = params.get(key);
  return typeof v === 'number' ? v : fallback;
}

function readWeights(layer: Omit<NcnnLayer, 'weights'>, reader: BlobReader, fail: (m: string) => never): Float32Array[] {
  const p = layer.params;
  switch (layer.type) {
    case 'Convolution': {
      if (num(p, 8, 0) !== 0) fail(`layer ${layer.name} (Convolution): int8 quantized convolutions are not supported`);
      if (num(p, 19, 0) !== 0) fail(`layer ${layer.name} (Convolution): dynamic weights are not supported`);
      const weight = reader.tagged(num(p, 6, 0), layer.name);
      return num(p, 5, 0) ? [weight, reader.raw(num(p, 0, 0), layer.name)] : [weight];
    }
    case 'PReLU':
      return [reader.raw(num(p, 0, 0), layer.name)];
    case 'Input':
    case 'Split':
    case 'PixelShuffle':
    case 'Interp':
    case 'BinaryOp':
      return [];
    default:
      return fail(`layer ${layer.name} (${layer.type}): layer type not supported (supported: ${NCNN_LAYERS.join(', ')})`);
  }
}

const TAG_FLOAT16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;
const TAG_FLOAT32_RAW = 0x0002c056;

/** Reads ncnn's .bin the way ModelBin does: tagged blobs (weights) and raw float32 blobs (bias, slopes). */
class BlobReader {
  offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fail: (m: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }

  private take(n: number, layer: string): Uint8Array {
    if (this.offset + n > this.bytes.length) this.fail(`layer ${layer}: the .bin file ends ${this.offset + n - this.bytes.length} bytes too early`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  raw(count: number, layer: string): Float32Array {
    const bytes = this.take(count * 4, layer);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }

  /** A 4-byte tag, then float16 (padded to 4 bytes), raw float32, or (flag 0) plain float32 data. */
  tagged(count: number, layer: string): Float32Array {
    if (this.offset + 4 > this.bytes.length) this.fail(`layer ${layer}: the .bin file ends before its weights`);
    const tag = this.view.getUint32(this.offset, true);
    const flagSum = this.bytes[this.offset]! + this.bytes[this.offset + 1]! + this.bytes[this.offset + 2]! + this.bytes[this.offset + 3]!;
    this.offset += 4;
    if (tag === TAG_FLOAT16) {
      const bytes = this.take(Math.ceil((count * 2) / 4) * 4, layer);
      return halvesToFloats(bytes, count);
    }
    if (tag === TAG_INT8) this.fail(`layer ${layer}: int8 weights are not supported`);
    if (tag === TAG_FLOAT32_RAW || flagSum === 0) return this.raw(count, layer);
    return this.fail(`layer ${layer}: quantized (lookup-table) weights are not supported`);
  }
}

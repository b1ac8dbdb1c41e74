import { readFile } from 'node:fs/promises';
import { appendToModel, graphOutputNames } from '../onnx/append.js';
import { DataType, GraphBuilder } from '../onnx/graph.js';

/**
 * The end of every frame, done by ONNX Runtime inside the model's own graph instead of in
 * JavaScript: the output clamped to 0..1 (what history models feed back), its 8-bit levels
 * round(clamp(x)·255) (ONNX Round: ties to even, as numpy), and a count of NaN values (an error,
 * never a black picture). On the 2-core CPU this takes about 12 ms a 720p frame off the main thread.
 * Only for graphs whose output is NCHW float in 0..1: RGB, or a luma model's one plane of Y codes.
 */
export const TAIL_OUTPUTS = { clamped: 'stream_sr_clamped', levels: 'stream_sr_levels', nans: 'stream_sr_nans' } as const;

export function withOutputTail(model: Uint8Array, output: string, channels = 3): Uint8Array {
  const g = new GraphBuilder('tail');
  const zero = g.constant('stream_sr_zero', 'float32', [], [0]);
  const one = g.constant('stream_sr_one', 'float32', [], [1]);
  const full = g.constant('stream_sr_255', 'float32', [], [255]);
  g.op('Clip', [output, zero, one], {}, TAIL_OUTPUTS.clamped);
  const rounded = g.op('Round', [g.op('Mul', [TAIL_OUTPUTS.clamped, full])]);
  g.op('Cast', [rounded], { to: DataType.uint8 }, TAIL_OUTPUTS.levels);
  g.op('ReduceSum', [g.op('Cast', [g.op('IsNaN', [output])], { to: DataType.float32 })], { keepdims: 0 }, TAIL_OUTPUTS.nans);
  const shape = [1, channels, 'stream_sr_height', 'stream_sr_width'];
  // the builder's own names (mul_1, ...) may be the model's too: everything the tail adds gets a prefix
  const own = new Set<string>([...g.initializers.map((t) => t.name), ...Object.values(TAIL_OUTPUTS), output]);
  const rename = (name: string) => (own.has(name) ? name : `stream_sr_tail_${name}`);
  return appendToModel(model, {
    nodes: g.nodes.map((n) => ({ ...n, name: `stream_sr_tail_${n.name}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) })),
    initializers: g.initializers,
    outputs: [
      { name: TAIL_OUTPUTS.clamped, type: 'float32', shape },
      { name: TAIL_OUTPUTS.levels, type: 'uint8', shape },
      { name: TAIL_OUTPUTS.nans, type: 'float32', shape: [] },
    ],
  });
}

/**
 * The model file with the tail, in memory; undefined when the file keeps weights outside itself (they
 * are found relative to its path) or cannot be read as a model: then it is loaded from its path as
 * it is, and ONNX Runtime's own message says what is wrong with it.
 */
export async function modelWithOutputTail(file: string, output: string, channels = 3): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  if (bytes.includes(Buffer.from('location'))) return undefined;
  try {
    // a manifest naming an output the graph lacks is reported by the manifest check, on the file as it is
    if (!graphOutputNames(bytes).includes(output)) return undefined;
    return withOutputTail(bytes, output, channels);
  } catch {
    return undefined; // a truncated or damaged file
  }
}

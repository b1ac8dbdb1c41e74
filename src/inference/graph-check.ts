import { UsageError } from '../core/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { describeShape, type OnnxSession, type TensorSpec } from './session.js';

/** Where the channel axis of a frame tensor is, for each layout a manifest may declare. */
const CHANNEL_AXIS = { NCHW: 1, NHWC: 3 } as const;

function expectedShape(layout: 'NCHW' | 'NHWC', planes: number): string {
  return layout === 'NCHW' ? `[1,${planes},height,width]` : `[1,height,width,${planes}]`;
}

/**
 * A frame tensor must be float32 [1,3,H,W] (NCHW) or [1,H,W,3] (NHWC) as the manifest's 'layout'
 * says (one plane instead of three for a luma model); fixed dimensions that contradict it are
 * reported with the tensor's name.
 */
function checkFrameTensor(m: ModelManifest, spec: TensorSpec, role: string, name: string, file: string): void {
  const where = `model ${m.id}: graph ${role} '${name}' of ${file}`;
  if (spec.type !== 'float32') throw new UsageError(`${where} is ${spec.type}; stream-sr feeds and reads float32 frames`);
  const shape = spec.shape;
  const fixed = (i: number) => typeof shape[i] === 'number' && (shape[i] as number) >= 0;
  const other = m.layout === 'NCHW' ? CHANNEL_AXIS.NHWC : CHANNEL_AXIS.NCHW;
  const channels = CHANNEL_AXIS[m.layout];
  const planes = m.color === 'luma' ? 1 : 3;
  // a symbolic channel axis beside a fixed 3 where the other layout keeps channels: the graph is the other layout
  const wrongChannels = shape.length === 4 && (fixed(channels) ? shape[channels] !== planes : planes === 3 && fixed(other) && shape[other] === 3);
  const wrongBatch = shape.length === 4 && fixed(0) && shape[0] !== 1;
  if (shape.length !== 4 || wrongChannels || wrongBatch) {
    throw new UsageError(`${where} has shape ${describeShape(shape)}, but the manifest's 'layout' ${m.layout} needs ${expectedShape(m.layout, planes)}`);
  }
}

/** The manifest's inputs and output must be the graph's, with frame shapes its layout describes. */
export function checkGraphMatchesManifest(m: ModelManifest, session: OnnxSession, file: string): void {
  const named = [m.inputs.frame, m.inputs.previousFrame, m.inputs.previousOutput].filter((n): n is string => Boolean(n));
  for (const name of named) {
    const spec = session.inputs.get(name);
    if (!spec) throw new UsageError(`model ${m.id}: manifest input '${name}' is not an input of ${file} (graph inputs: ${[...session.inputs.keys()].join(', ')})`);
    checkFrameTensor(m, spec, 'input', name, file);
  }
  for (const name of session.inputs.keys()) {
    if (!named.includes(name)) throw new UsageError(`model ${m.id}: graph input '${name}' of ${file} is not named in the manifest's 'inputs'`);
  }
  const out = session.outputs.get(m.output);
  if (!out) throw new UsageError(`model ${m.id}: manifest output '${m.output}' is not an output of ${file} (graph outputs: ${[...session.outputs.keys()].join(', ')})`);
  checkFrameTensor(m, out, 'output', m.output, file);
}

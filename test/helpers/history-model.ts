import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, encodeModel } from '../../src/onnx/graph.js';

/**
 * A tiny causal model with the real three-input interface, whose output says what history it saw:
 * out = 0.5 * up(0.5 * frame + 0.5 * previousFrame) + 0.5 * previousOutput, where `up` is a
 * bilinear x`scale` resize. On a first frame (zero history) a flat input v gives 0.25 v.
 * Returns the path of its model.json. `channels` 1: a luma model (manifest `color: 'luma'`, Y only).
 */
export function writeHistoryModel(dir: string, scale = 4, id = 'history-test', channels: 1 | 3 = 3): string {
  const g = new GraphBuilder(id);
  g.input('frame', 'float32', [1, channels, 'h', 'w']);
  g.input('prev_frame', 'float32', [1, channels, 'h', 'w']);
  g.input('prev_output', 'float32', [1, channels, 'oh', 'ow']);
  const half = g.constant('half', 'float32', [], [0.5]);
  const roi = g.constant('roi', 'float32', [0], []);
  const scales = g.constant('scales', 'float32', [4], [1, 1, scale, scale]);
  const mixed = g.op('Mul', [g.op('Add', ['frame', 'prev_frame']), half]);
  const up = g.op('Resize', [mixed, roi, scales], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  g.op('Mul', [g.op('Add', [up, 'prev_output']), half], {}, 'output');
  g.output('output', 'float32', [1, channels, 'oh', 'ow']);
  const modelDir = join(dir, id);
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, `${id}-x${scale}.onnx`), encodeModel(g));
  const manifest = {
    format: 'stream-sr-model/1',
    id,
    kind: 'frame-graph',
    variants: [{ scale, file: `${id}-x${scale}.onnx` }],
    inputs: { frame: 'frame', previousFrame: 'prev_frame', previousOutput: 'prev_output' },
    output: 'output',
    layout: 'NCHW',
    range: [0, 1],
    history: true,
    ...(channels === 1 ? { color: 'luma' } : {}),
  };
  const path = join(modelDir, 'model.json');
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

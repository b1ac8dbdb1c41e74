import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Deterministic pseudo-random numbers (mulberry32) for weights and test patches. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureLayer {
  readonly className: string;
  readonly name: string;
  readonly config?: Record<string, unknown>;
  readonly inputs?: readonly string[];
  /** Conv2D: [kh, kw, in, out]; a bias of `out` values is added unless use_bias is false. */
  readonly kernel?: readonly [number, number, number, number];
}

export type FixtureStyle = 'keras2' | 'keras3' | 'sequential';

function inbound(inputs: readonly string[], style: FixtureStyle): unknown {
  if (!inputs.length) return [];
  if (style === 'keras3') {
    const tensors = inputs.map((n) => ({ class_name: '__keras_tensor__', config: { shape: [null, null, null, 1], keras_history: [n, 0, 0] } }));
    return [{ args: tensors.length === 1 ? tensors : [tensors], kwargs: {} }];
  }
  return [inputs.map((n) => [n, 0, 0, {}])];
}

/**
 * Writes a TensorFlow.js layers-model (model.json + one shard) in the layout UpscalerJS ships,
 * with random weights, and returns the model.json path.
 */
export function writeTfjsModel(dir: string, layers: readonly FixtureLayer[], style: FixtureStyle = 'keras2', seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const rnd = random(seed);
  const weights: Array<{ name: string; shape: number[]; dtype: string }> = [];
  const values: number[] = [];
  for (const l of layers) {
    if (!l.kernel) continue;
    const [kh, kw, cin, cout] = l.kernel;
    const scale = 1 / Math.sqrt(kh * kw * cin);
    weights.push({ name: `${l.name}/kernel`, shape: [...l.kernel], dtype: 'float32' });
    for (let i = 0; i < kh * kw * cin * cout; i++) values.push((rnd() * 2 - 1) * scale);
    if (l.config?.use_bias !== false) {
      weights.push({ name: `${l.name}/bias`, shape: [cout], dtype: 'float32' });
      for (let i = 0; i < cout; i++) values.push(rnd() - 0.5);
    }
  }
  const layerJson = layers.map((l) => ({
    class_name: l.className,
    name: l.name,
    config: { name: l.name, ...(l.kernel ? { filters: l.kernel[3], kernel_size: [l.kernel[0], l.kernel[1]], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: true } : {}), ...l.config },
    ...(style === 'sequential' ? {} : { inbound_nodes: inbound(l.inputs ?? [], style) }),
  }));
  const last = layers[layers.length - 1]!.name;
  const config = style === 'sequential' ? { name: 'seq', layers: layerJson } : { name: 'fixture', layers: layerJson, input_layers: [[layers[0]!.name, 0, 0]], output_layers: [[last, 0, 0]] };
  const json = {
    format: 'layers-model',
    generatedBy: 'stream-sr test fixture',
    modelTopology: { keras_version: '2.10.0', backend: 'tensorflow', model_config: { class_name: style === 'sequential' ? 'Sequential' : 'Functional', config } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(Float32Array.from(values).buffer));
  return join(dir, 'model.json');
}

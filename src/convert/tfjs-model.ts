import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError, errorMessage } from '../core/errors.js';

type Json = Record<string, unknown>;

/** One Keras layer of a TensorFlow.js layers-model, with the names of the layers feeding it. */
export interface TfjsLayer {
  readonly className: string;
  readonly name: string;
  readonly config: Json;
  readonly inputs: readonly string[];
}

export interface TfjsWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A layers-model as model.json describes it: layers in topological order, weights by name. */
export interface TfjsModel {
  readonly source: string;
  readonly layers: readonly TfjsLayer[];
  readonly inputLayers: readonly string[];
  readonly outputLayers: readonly string[];
  readonly weights: ReadonlyMap<string, TfjsWeight>;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(source: string, message: string): never {
  throw new UsageError(`TensorFlow.js model ${source}: ${message}`);
}

/** Reads model.json and its weight shards (paths relative to it). */
export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModel> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new UsageError(`TensorFlow.js model ${modelJsonPath}: cannot read it (${errorMessage(err)})`, { cause: err });
  }
  if (!isObject(json)) fail(modelJsonPath, 'model.json is not a JSON object');
  const shards = new Map<string, Uint8Array>();
  for (const group of groupsOf(json, modelJsonPath)) {
    for (const p of group.paths) {
      try {
        shards.set(p, await readFile(join(dirname(modelJsonPath), p)));
      } catch (err) {
        fail(modelJsonPath, `weight shard ${p} cannot be read (${errorMessage(err)})`);
      }
    }
  }
  return parseTfjsModel(json, (p) => shards.get(p)!, modelJsonPath);
}

/** Builds the model from a parsed model.json; `shard(path)` gives the bytes of one weight file. */
export function parseTfjsModel(json: Json, shard: (path: string) => Uint8Array, source = 'model.json'): TfjsModel {
  if (json.format !== undefined && json.format !== 'layers-model') {
    fail(source, `format '${String(json.format)}' is not a layers-model (graph-models are not supported)`);
  }
  const topology = isObject(json.modelTopology) ? json.modelTopology : fail(source, "missing 'modelTopology'");
  const config = isObject(topology.model_config) ? topology.model_config : topology;
  const { layers, inputLayers, outputLayers } = readTopology(config, source);
  return { source, layers: topologicalOrder(layers, outputLayers, source), inputLayers, outputLayers, weights: readWeights(json, shard, source) };
}

interface Topology {
  layers: TfjsLayer[];
  inputLayers: string[];
  outputLayers: string[];
}

function readTopology(config: Json, source: string): Topology {
  const className = String(config.class_name);
  const inner = config.config;
  if (className === 'Sequential') return sequentialTopology(Array.isArray(inner) ? inner : isObject(inner) ? inner.layers : undefined, source);
  if (className !== 'Functional' && className !== 'Model') fail(source, `model class '${className}' is not supported (Functional, Model or Sequential)`);
  if (!isObject(inner) || !Array.isArray(inner.layers)) fail(source, `model_config.config.layers is missing`);
  const layers = inner.layers.map((raw, i) => {
    if (!isObject(raw)) fail(source, `layers[${i}] is not an object`);
    const name = String((raw as Json).name ?? (isObject(raw.config) ? raw.config.name : `layer_${i}`));
    return { className: String(raw.class_name), name, config: isObject(raw.config) ? raw.config : {}, inputs: inboundNames(raw.inbound_nodes, name, source) };
  });
  return { layers, inputLayers: layerRefs(inner.input_layers, 'input_layers', source), outputLayers: layerRefs(inner.output_layers, 'output_layers', source) };
}

/** A Sequential model chains its layers; a first layer with batch_input_shape implies an input layer. */
function sequentialTopology(list: unknown, source: string): Topology {
  if (!Array.isArray(list) || list.length === 0) fail(source, 'Sequential model without layers');
  const layers: TfjsLayer[] = [];
  let previous: string | undefined;
  for (const [i, raw] of list.entries()) {
    if (!isObject(raw) || !isObject(raw.config)) fail(source, `layers[${i}] is not an object`);
    const config = raw.config;
    const name = String(config.name ?? `layer_${i}`);
    if (previous === undefined && raw.class_name !== 'InputLayer') {
      if (!Array.isArray(config.batch_input_shape)) fail(source, `the first layer '${name}' has no batch_input_shape`);
      layers.push({ className: 'InputLayer', name: 'input', config: { batch_input_shape: config.batch_input_shape }, inputs: [] });
      previous = 'input';
    }
    layers.push({ className: String(raw.class_name), name, config, inputs: previous === undefined ? [] : [previous] });
    previous = name;
  }
  return { layers, inputLayers: [layers[0]!.name], outputLayers: [previous!] };
}

/** Keras 2 writes [[[name, node, tensor, kwargs], ...]]; Keras 3 writes [{ args: [...keras tensors] }]. */
function inboundNames(nodes: unknown, layer: string, source: string): string[] {
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) fail(source, `layer '${layer}': inbound_nodes is not a list`);
  if (nodes.length > 1) fail(source, `layer '${layer}' is called ${nodes.length} times (shared layers are not supported)`);
  const node = nodes[0];
  if (Array.isArray(node)) return node.map((ref) => (Array.isArray(ref) ? String(ref[0]) : fail(source, `layer '${layer}': bad inbound reference`)));
  if (isObject(node) && Array.isArray(node.args)) return kerasHistoryNames(node.args, layer, source);
  return fail(source, `layer '${layer}': inbound_nodes format not understood`);
}

function kerasHistoryNames(args: unknown[], layer: string, source: string): string[] {
  const names: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (isObject(v) && isObject(v.config) && Array.isArray(v.config.keras_history)) names.push(String(v.config.keras_history[0]));
  };
  visit(args);
  if (!names.length) fail(source, `layer '${layer}': no input tensors in inbound_nodes`);
  return names;
}

function layerRefs(refs: unknown, field: string, source: string): string[] {
  if (!Array.isArray(refs) || refs.length === 0) fail(source, `model config has no ${field}`);
  if (typeof refs[0] === 'string') return [String(refs[0])];
  return refs.map((r) => (Array.isArray(r) ? String(r[0]) : fail(source, `bad entry in ${field}`)));
}

/** Orders layers so that each comes after its inputs, keeping only what the outputs need. */
function topologicalOrder(layers: TfjsLayer[], outputs: readonly string[], source: string): TfjsLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const ordered: TfjsLayer[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string): void => {
    const layer = byName.get(name) ?? fail(source, `layer '${from}' takes its input from unknown layer '${name}'`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') fail(source, `layer '${name}' is part of a cycle`);
    state.set(name, 'visiting');
    for (const input of layer.inputs) visit(input, name);
    state.set(name, 'done');
    ordered.push(layer);
  };
  for (const out of outputs) visit(out, 'output_layers');
  return ordered;
}

interface WeightGroup {
  paths: string[];
  weights: Json[];
}

function groupsOf(json: Json, source: string): WeightGroup[] {
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) fail(source, 'weightsManifest is not a list');
  return manifest.map((g, i) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) fail(source, `weightsManifest[${i}] needs 'paths' and 'weights'`);
    return { paths: g.paths.map(String), weights: g.weights.filter(isObject) };
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Weights of each group lie back to back in the group's shards, concatenated in order. */
function readWeights(json: Json, shard: (path: string) => Uint8Array, source: string): Map<string, TfjsWeight> {
  const weights = new Map<string, TfjsWeight>();
  for (const group of groupsOf(json, source)) {
    const bytes = concat(group.paths.map(shard));
    let offset = 0;
    for (const w of group.weights) {
      const name = String(w.name);
      if (w.quantization !== undefined) fail(source, `weight '${name}' is quantized (${JSON.stringify(w.quantization)}); only float32 weights are supported`);
      if (w.dtype !== 'float32') fail(source, `weight '${name}' has dtype ${String(w.dtype)}; only float32 weights are supported`);
      const shape = (Array.isArray(w.shape) ? w.shape : []).map(Number);
      const count = shape.reduce((a, b) => a * b, 1);
      if (offset + count * 4 > bytes.length) fail(source, `weight '${name}' runs past the end of its shards (${bytes.length} bytes)`);
      const data = new Float32Array(count);
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + count * 4));
      weights.set(name, { shape, data });
      offset += count * 4;
    }
  }
  return weights;
}

/** A layer's weight by Keras name (`layer/kernel`), also when the converter scoped it (`model/layer/kernel`). */
export function layerWeight(model: TfjsModel, layer: string, kind: string): TfjsWeight | undefined {
  const exact = model.weights.get(`${layer}/${kind}`);
  if (exact) return exact;
  for (const [name, w] of model.weights) if (name.endsWith(`/${layer}/${kind}`)) return w;
  return undefined;
}

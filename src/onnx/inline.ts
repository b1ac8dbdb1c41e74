/**
 * Copies one built graph into another, as ONNX functions are inlined: every node, initializer and
 * intermediate tensor of the part gets `prefix` in front of its name, the part's inputs are wired
 * to tensors of the target, and the part's outputs are returned under their new names. Composing
 * per-part graphs this way gives one graph whose maths is, node for node, the parts'.
 */
import type { GraphBuilder } from './graph.js';

/** Returns the target's tensor name of each output of `part`. */
export function inlineGraph(target: GraphBuilder, part: GraphBuilder, prefix: string, bindings: Readonly<Record<string, string>>): Record<string, string> {
  const names = new Map<string, string>();
  for (const input of part.inputs) {
    const bound = bindings[input.name];
    if (bound === undefined) throw new RangeError(`inlining ${part.name}: input '${input.name}' is not bound`);
    names.set(input.name, bound);
  }
  for (const extra of Object.keys(bindings)) {
    if (!part.inputs.some((i) => i.name === extra)) throw new RangeError(`inlining ${part.name}: it has no input '${extra}'`);
  }
  const rename = (name: string): string => {
    if (name === '') return name; // an omitted optional input stays omitted
    let renamed = names.get(name);
    if (renamed === undefined) {
      renamed = `${prefix}${name}`;
      names.set(name, renamed);
    }
    return renamed;
  };
  for (const t of part.initializers) target.initializers.push({ ...t, name: rename(t.name) });
  for (const n of part.nodes) target.nodes.push({ ...n, name: `${prefix}${n.name}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) });
  const outputs: Record<string, string> = {};
  for (const o of part.outputs) outputs[o.name] = rename(o.name);
  return outputs;
}

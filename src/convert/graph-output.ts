import type { GraphBuilder } from '../onnx/graph.js';

/** Renames the tensor that ends a converted graph, so no Identity copies a full-size frame. */
export function nameGraphOutput(g: GraphBuilder, tensor: string, output: string): void {
  if (g.inputs.some((i) => i.name === tensor)) {
    g.op('Identity', [tensor], {}, output);
    return;
  }
  const rename = (n: string): string => (n === tensor ? output : n);
  g.nodes.forEach((node, i) => {
    g.nodes[i] = { ...node, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename) };
  });
}

/** Messages between OnnxSession's thread (session-thread.ts) and the worker that runs ONNX Runtime (session-worker.ts). */
import type { Ort } from './ort.js';

/** A tensor as it crosses threads: its values in a buffer of their own (transferred, never shared). */
export interface WireTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBufferView;
}

export type Request =
  | { readonly op: 'create'; readonly id: number; readonly model: string | Uint8Array; readonly options: Ort.InferenceSession.SessionOptions }
  | { readonly op: 'run'; readonly id: number; readonly session: number; readonly feeds: Record<string, WireTensor>; readonly fetches?: readonly string[] }
  | { readonly op: 'release'; readonly id: number; readonly session: number };

export type Reply =
  | { readonly id: number; readonly error: string }
  | { readonly id: number; readonly session: number; readonly inputMetadata: readonly Ort.InferenceSession.ValueMetadata[]; readonly outputMetadata: readonly Ort.InferenceSession.ValueMetadata[] }
  | { readonly id: number; readonly outputs: Record<string, WireTensor> }
  | { readonly id: number; readonly released: true };

/** A copy of a tensor's values that owns its whole buffer, so it can be transferred without detaching the caller's. */
export function toWire(t: { type: string; dims: readonly number[]; data: unknown }): WireTensor {
  const data = t.data as ArrayBufferView & { slice(): ArrayBufferView };
  if (!ArrayBuffer.isView(data)) throw new TypeError(`a ${t.type} tensor without a typed array cannot be sent to the ONNX Runtime thread`);
  return { type: t.type, dims: [...t.dims], data: data.slice() };
}

/** The buffers of wire tensors, to hand over in postMessage's transfer list. */
export function buffers(tensors: Record<string, WireTensor>): ArrayBuffer[] {
  return Object.values(tensors).map((t) => t.data.buffer as ArrayBuffer);
}

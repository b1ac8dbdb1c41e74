/**
 * A minimal protocol-buffers encoder: just what ONNX's ModelProto needs (varints, 32-bit floats,
 * length-delimited fields). Writing the few messages by hand keeps the model tooling free of
 * generated code and runtime dependencies.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** Repeated scalar varints, packed (proto3 default for repeated numerics). */
  packedInts(field: number, values: ReadonlyArray<number | bigint>): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** A minimal protocol-buffers reader, enough to walk ONNX and ncnn-free files in tests and checks. */
export class ProtoReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  }

  /** Next field: its number, wire type, and value (bigint for varints, bytes for the rest). */
  next(): { field: number; wire: number; value: bigint | Uint8Array } {
    const key = Number(this.varint());
    const field = key >>> 3;
    const wire = key & 7;
    switch (wire) {
      case 0:
        return { field, wire, value: this.varint() };
      case 1:
        return { field, wire, value: this.take(8) };
      case 2:
        return { field, wire, value: this.take(Number(this.varint())) };
      case 5:
        return { field, wire, value: this.take(4) };
      default:
        throw new RangeError(`unsupported wire type ${wire}`);
    }
  }

  private take(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    if (out.length !== n) throw new RangeError('truncated field');
    this.pos += n;
    return out;
  }
}

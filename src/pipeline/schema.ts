/**
 * A small JSON Schema (draft 2020-12) subset: enough to describe pipeline files and to say exactly
 * which field is wrong. Supported: type, properties, required, additionalProperties: false, items,
 * minItems, enum, minimum, maximum, exclusiveMinimum, pattern, and additionalProperties as a schema.
 */
export interface Schema {
  readonly type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly enum?: readonly (string | number)[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly pattern?: string;
  /** Shown when `pattern` does not match. */
  readonly patternMessage?: string;
  readonly default?: unknown;
}

export interface SchemaProblem {
  /** `sinks[1].segmentSeconds`, or '' for the whole document. */
  readonly path: string;
  readonly message: string;
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number' && Number.isInteger(value)) return 'a whole number';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false' };

function typeMatches(schema: Schema, value: unknown): boolean {
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === schema.type;
  }
}

/** Every problem of `value` against `schema`, each naming the field. */
export function validate(schema: Schema, value: unknown, path = ''): SchemaProblem[] {
  if (!typeMatches(schema, value)) return [{ path, message: `must be ${EXPECTED[schema.type!]}, not ${typeOf(value)}` }];
  const problems: SchemaProblem[] = [];
  const say = (message: string): void => void problems.push({ path, message });
  if (schema.enum && !schema.enum.includes(value as string | number)) say(`must be one of ${schema.enum.join(', ')}, not ${JSON.stringify(value)}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) say(`must be at least ${schema.minimum}, not ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) say(`must be at most ${schema.maximum}, not ${value}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) say(`must be more than ${schema.exclusiveMinimum}, not ${value}`);
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) say(schema.patternMessage ?? `does not match ${schema.pattern}`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) say(`needs at least ${schema.minItems} entr${schema.minItems === 1 ? 'y' : 'ies'}`);
    if (schema.items) value.forEach((item, i) => problems.push(...validate(schema.items!, item, join(path, i))));
  }
  if (schema.type === 'object') problems.push(...validateObject(schema, value as Record<string, unknown>, path));
  return problems;
}

function validateObject(schema: Schema, value: Record<string, unknown>, path: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const props = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) problems.push({ path: join(path, name), message: 'is required' });
  }
  for (const [key, child] of Object.entries(value)) {
    const sub = props[key];
    if (sub) problems.push(...validate(sub, child, join(path, key)));
    else if (typeof schema.additionalProperties === 'object') problems.push(...validate(schema.additionalProperties, child, join(path, key)));
    else if (schema.additionalProperties === false) problems.push({ path: join(path, key), message: unknownField(key, Object.keys(props)) });
  }
  return problems;
}

function unknownField(key: string, known: readonly string[]): string {
  const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return `is not a known field${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

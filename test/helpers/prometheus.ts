/** A strict reader of the Prometheus text exposition format (0.0.4), for checking /metrics. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;

export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  text.split('\n').slice(0, -1).forEach((line, i) => {
    const where = `line ${i + 1} '${line}'`;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.+)$`).exec(line);
      if (!m) throw new Error(`${where}: malformed comment`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'summary', 'histogram', 'untyped'].includes(m[3]!)) throw new Error(`${where}: unknown type`);
        if (types.has(m[2]!)) throw new Error(`${where}: TYPE given twice`);
        types.set(m[2]!, m[3]!);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a sample`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`${where}: bad labels`);
      labels[l[1]!] = l[2]!;
      rest = rest.slice(l[0].length);
    }
    const value = m[3] === 'NaN' ? NaN : m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`${where}: bad value`);
    const family = m[1]!.replace(/_(sum|count|bucket)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`${where}: sample before its TYPE`);
    const key = `${m[1]}{${JSON.stringify(labels)}}`;
    if (seen.has(key)) throw new Error(`${where}: series repeated`);
    seen.add(key);
    samples.push({ name: m[1]!, labels, value });
  });
  return { samples, types };
}

export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** One sample of the Prometheus text format (0.0.4). */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text exposition format strictly (a line that is not a comment, blank or a
 * valid sample throws, naming it): label values with `\\`, `\"` and `\n` escapes, values such as
 * `+Inf` and `NaN`; every `# TYPE` must come before its samples.
 */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const typed = new Set<string>();
  for (const [n, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = line.split(' ').slice(1);
      if (!name || !/^(gauge|counter|histogram|summary|untyped)$/.test(type ?? '')) throw new Error(`line ${n + 1}: bad TYPE line: ${line}`);
      typed.add(name);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`line ${n + 1}: not a sample: ${JSON.stringify(line)}`);
    const name = m[1] as string;
    if (!typed.has(name)) throw new Error(`line ${n + 1}: ${name} has no # TYPE before it`);
    const raw = m[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' || raw === 'Nan' ? NaN : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`line ${n + 1}: bad value ${raw}`);
    out.push({ name, labels: m[2] ? parseLabels(m[2].slice(1, -1), n + 1) : {}, value });
  }
  return out;
}

function parseLabels(s: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i));
    if (!m) throw new Error(`line ${line}: bad label at ${JSON.stringify(s.slice(i))}`);
    i += m[0].length;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`line ${line}: raw newline in a label value`);
      if (c === '\\') {
        const e = s[i + 1];
        if (e === 'n') v += '\n';
        else if (e === '\\' || e === '"') v += e;
        else throw new Error(`line ${line}: bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[m[1] as string] = v;
    i++;
    if (s[i] === ',') i++;
  }
  return labels;
}

/** The samples of one metric, with labels matching `match`. */
export function samples(all: readonly PromSample[], name: string, match: Record<string, string> = {}): PromSample[] {
  return all.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), enough for tests:
 * `# HELP` / `# TYPE` lines and samples `name{label="value",…} number`. The one parser on npm
 * (parse-prometheus-text-format 1.1.1) drops the labels, `_count` and `_sum` of any histogram
 * that has labels besides `le`, which is every histogram here; this one throws on a line it does
 * not understand instead, so a malformed /metrics fails the test.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let match = LABEL.exec(text); match; match = LABEL.exec(text)) {
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    consumed = LABEL.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`malformed labels in: ${line}`);
  return labels;
}

/** Like Prometheus (Go's ParseFloat): NaN and ±Inf in any case ("Nan" is what prom-client writes). */
function sampleValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === 'nan') return NaN;
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a number in: ${line}`);
  return value;
}

export function parseMetrics(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ');
      if (!name || !type) throw new Error(`malformed TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const value = sampleValue(match[3] as string, line);
    samples.push({ name: match[1] as string, labels: parseLabels(match[2] ?? '', line), value });
  }
  return { types, samples };
}

/** The value of the sample `name` whose labels include `labels` (0 when there is none yet). */
export function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const sample = scrape.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return sample?.value ?? 0;
}

/** Reads a Prometheus text exposition (the worker's /metrics) into samples, and sums them by name and labels. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples, each named by its metric family: a counter's `<family>_total` sample is named `<family>`, as
 * Datadog's OpenMetrics check and Prometheus' parsers name it (and as METRIC_NAMES does).
 */
export function parsePrometheus(text: string): Sample[] {
  const counters = new Set([...text.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]!.replace(/_total$/, '')));
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    const family = m[1]!.replace(/_total$/, '');
    samples.push({ name: counters.has(family) ? family : m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(\S+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  unknown: [''],
};

/**
 * What a strict OpenMetrics parser refuses in a text exposition (besides the `# EOF` and content type it
 * negotiates): every sample under a `# TYPE` of a known type, named as its type requires (a counter's samples end in
 * `_total`), valid names, label sets and values, and no sample twice.
 * https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
export function openMetricsProblems(text: string): string[] {
  const problems: string[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (!SUFFIXES[type[2]!]) problems.push(`${type[1]}: unknown type ${type[2]}`);
      // A counter family is named without its `_total`; Prometheus' text format writes it either way.
      types.set(type[2] === 'counter' ? type[1]!.replace(/_total$/, '') : type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) {
      problems.push(`not a sample: ${line}`);
      continue;
    }
    const name = m[1]!;
    const family = [...types.keys()].find((f) => (SUFFIXES[types.get(f)!] ?? []).some((s) => name === f + s));
    if (!family) problems.push(`${name}: no # TYPE names it as its type requires (a counter's samples end in _total)`);
    const labels = m[2] ?? '';
    if (labels.replace(LABEL, '').replace(/,/g, '') !== '') problems.push(`${name}: malformed labels {${labels}}`);
    if (!/^(?:[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|NaN|[-+]?Inf)$/.test(m[3]!))
      problems.push(`${name}: not a number: ${m[3]}`);
    const key = `${name}{${labels}}`;
    if (seen.has(key)) problems.push(`${key}: twice`);
    seen.add(key);
  }
  return problems;
}

/** Sum of the samples called `name` whose labels include `labels`; undefined when there is none. */
export function metricSum(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return parsePrometheus(await res.text());
}

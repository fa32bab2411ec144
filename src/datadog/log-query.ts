/**
 * The part of Datadog's log search syntax (https://docs.datadoghq.com/logs/explorer/search_syntax/) this service
 * reads: verify asks whether a missing log matches an index's exclusion filter (Datadog cannot be asked: an excluded
 * log is in no index), and the Datadog simulator filters its read APIs with it. It understands terms joined by spaces (AND), `-term` (NOT), `*` (everything), `source:` / `service:` / `host:` /
 * `status:` on the reserved attributes, `@path.to.attr:` on attributes, any other `key:value` on tags, values quoted
 * (`"…"`), with a trailing `*` (prefix), or a group `(a OR b OR …)`. Pure functions.
 */
/** A log item as sent to the intake. */
export type ReceivedLog = Record<string, unknown>;

export interface IndexedFields {
  item: ReceivedLog;
  /** `key:value` tags, lower-cased (the intake's `ddtags` parameter and the item's `ddtags`). */
  tags: readonly string[];
}

interface Term {
  negate: boolean;
  key: string | undefined;
  values: string[];
}

export type LogPredicate = (log: IndexedFields) => boolean;

/** Compiles a query to a predicate. Throws on what it cannot read (the read API answers 400). */
export function compileQuery(query: string | undefined): LogPredicate {
  const terms = tokenize(query ?? '*').map(parseTerm);
  return (log) => terms.every((t) => matchTerm(t, log) !== t.negate);
}

function tokenize(query: string): string[] {
  const out: string[] = [];
  const re = /-?(?:[^\s"(]+:)?(?:"[^"]*"|\([^)]*\)|[^\s()"]+)/g;
  const rest = query.replace(re, (m) => {
    out.push(m);
    return ' ';
  });
  if (rest.trim() !== '') throw new Error(`cannot read query: ${query}`);
  return out;
}

function parseTerm(token: string): Term {
  const negate = token.startsWith('-');
  const body = negate ? token.slice(1) : token;
  const colon = body.indexOf(':');
  const key = colon > 0 ? body.slice(0, colon) : undefined;
  const raw = colon > 0 ? body.slice(colon + 1) : body;
  const values = raw.startsWith('(')
    ? raw
        .slice(1, -1)
        .split(/\s+OR\s+/)
        .map(unquote)
    : [unquote(raw)];
  return { negate, key, values };
}

function unquote(v: string): string {
  const t = v.trim();
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function matchTerm(term: Term, log: IndexedFields): boolean {
  const { key, values } = term;
  if (key === undefined) return values.some((v) => v === '*' || JSON.stringify(log.item).includes(v));
  const actual = fieldValues(key, log);
  return values.some((v) => actual.some((a) => matchValue(v, a)));
}

function fieldValues(key: string, log: IndexedFields): string[] {
  const { item } = log;
  const reserved: Record<string, unknown> = {
    source: item.ddsource,
    service: item.service,
    host: item.hostname,
    status: item.status,
  };
  if (key in reserved) return reserved[key] === undefined ? [] : [String(reserved[key])];
  if (key.startsWith('@')) {
    let v: unknown = item;
    for (const part of key.slice(1).split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
    return v === undefined || v === null ? [] : [typeof v === 'object' ? JSON.stringify(v) : String(v)];
  }
  const prefix = `${key.toLowerCase()}:`;
  return log.tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
}

function matchValue(pattern: string, actual: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return actual.startsWith(pattern.slice(0, -1));
  return actual === pattern;
}

/** Tags of a log: the request's `ddtags` parameter and the item's own `ddtags`, lower-cased as Datadog does. */
export function tagsOf(item: ReceivedLog, ddtagsParam: string | undefined): string[] {
  const own = typeof item.ddtags === 'string' ? item.ddtags : '';
  return [ddtagsParam ?? '', own]
    .join(',')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Many tenants from one file (KANDJI_TENANTS_FILE, YAML or JSON). Each tenant names its Kandji API URL, where its
 * token comes from (an environment variable or a file — never the token itself), its streams, poll intervals,
 * request budget and extra tags. Validated with zod; every error names the tenant and the field.
 *
 * Error messages name the tenant, the field and what is expected, never a value found in the file: a token pasted
 * in the wrong place must not end up in a log. Tokens are read when a request needs them (src/kandji/token-source.ts):
 * a missing one blocks only its tenant.
 *
 * tenants:
 *   - name: acme
 *     apiUrl: https://acme.api.kandji.io
 *     token: { env: ACME_KANDJI_TOKEN }        # or { file: /var/run/secrets/acme/kandji-token }
 *     streams: [audit, detections]             # default: KANDJI_STREAMS's default
 *     pollIntervals: { audit: 1m, detections: 15m, threats: 5m, behavioral-detections: 5m }
 *     behavioralWindowDays: 7                  # days back each behavioral-detections sweep reads
 *     requestsPerHour: 5000
 *     tags: [team:secops]
 *     staleEvents: { detections: restamp }     # per stream: ship, restamp or drop (else DD_STALE_EVENTS_<STREAM>, …)
 */
import fs from 'node:fs';
import { parseDocument, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { durationMs, TENANT_NAME, tenantName } from './edge-schemas';
import { STREAMS } from '../../workflows/shared/stream-status';
import { STALE_POLICIES } from '../datadog/stale-events';
import { envTokenProvider, fileTokenProvider, type FileTokenOptions, type TokenProvider } from '../kandji/token-source';

// One message whatever is wrong: parseDuration's quotes the value, which must not be shown here.
const duration = durationMs({
  moreThanZero: true,
  message: 'expected a duration of more than 0 with a unit, e.g. 30s, 5m, 1h30m',
});

const stalePolicy = z.enum(STALE_POLICIES, { error: `expected one of ${STALE_POLICIES.join(', ')}` });

const tenantSchema = z
  .object({
    name: tenantName,
    apiUrl: z.string({ error: 'required: the Kandji API URL, e.g. https://acme.api.kandji.io' }),
    token: z.union(
      [
        z
          .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') })
          .strict(),
        z.object({ file: z.string().min(1, 'expected the path of the token file') }).strict(),
      ],
      { error: 'expected { env: VARIABLE_NAME } or { file: /path/to/token } (never the token itself)' },
    ),
    streams: z.array(z.enum(STREAMS)).min(1).optional(),
    pollIntervals: z
      .object({
        audit: duration.optional(),
        detections: duration.optional(),
        threats: duration.optional(),
        'behavioral-detections': duration.optional(),
      })
      .strict()
      .optional(),
    behavioralWindowDays: z.number().int().min(1).max(365).optional(),
    requestsPerHour: z.number().int().min(1).max(10_000).optional(),
    tags: z.array(z.string().regex(/^[^,\s]+$/, 'a tag has no commas or spaces, e.g. team:secops')).optional(),
    staleEvents: z
      .object({
        audit: stalePolicy.optional(),
        detections: stalePolicy.optional(),
        threats: stalePolicy.optional(),
        'behavioral-detections': stalePolicy.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const fileSchema = z.object({ tenants: z.array(z.unknown()).min(1, 'list at least one tenant') }).strict();

export type TenantEntry = z.output<typeof tenantSchema> & { token: { env: string } | { file: string } };

/** Reads and validates the tenants file; throws ConfigError naming the tenant and field of every problem. */
export function loadTenantsFile(path: string): TenantEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`KANDJI_TENANTS_FILE: cannot read ${path}: ${(err as Error).message}`], { cause: err });
  }
  let doc: unknown;
  const json = /\.json$/i.test(path);
  try {
    doc = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // Parser messages quote the offending text (a token, maybe): give only where it is, and no `cause` (it would
    // carry that text along).
    throw new ConfigError([
      `KANDJI_TENANTS_FILE: ${path} is not valid ${json ? 'JSON' : 'YAML'}${syntaxErrorPlace(text, err)}`,
    ]);
  }
  const top = fileSchema.safeParse(doc);
  if (!top.success) {
    throw new ConfigError(
      top.error.issues.map(
        (i) => `KANDJI_TENANTS_FILE: ${i.path.join('.') || '(file)'}: ${issueMessage(i)}; expected { tenants: [ … ] }`,
      ),
    );
  }
  const problems: string[] = [];
  const tenants: TenantEntry[] = [];
  top.data.tenants.forEach((raw, index) => {
    const name = (raw as { name?: unknown })?.name;
    // Only a valid name is shown: anything else could be a value pasted in the wrong place.
    const label = `tenant ${typeof name === 'string' && TENANT_NAME.test(name) ? `"${name}"` : `#${index + 1}`}`;
    const parsed = tenantSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        problems.push(`KANDJI_TENANTS_FILE: ${label}: ${i.path.join('.') || '(entry)'}: ${issueMessage(i)}`);
      return;
    }
    if (tenants.some((t) => t.name === parsed.data.name))
      problems.push(`KANDJI_TENANTS_FILE: ${label}: name: listed twice`);
    tenants.push(parsed.data as TenantEntry);
  });
  if (problems.length) throw new ConfigError(problems);
  return tenants;
}

/**
 * Zod's own messages state what was expected (and at most the type received); only unknown keys would quote the
 * file, so they are named only when they look like a field name.
 */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const names = issue.keys.map((k) =>
    /^[A-Za-z]{1,40}$/.test(k) ? `"${k}"` : '(a key that is no field name; not shown)',
  );
  return `unknown field${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
}

/** ` near line L, column C` of a syntax error, from the YAML parser (JSON is YAML), without quoting the text. */
function syntaxErrorPlace(text: string, err: unknown): string {
  let pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  if (!pos) pos = parseDocument(text, { schema: 'json' }).errors[0]?.linePos?.[0];
  return pos ? ` near line ${pos.line}, column ${pos.col}` : '';
}

/**
 * The token of a tenant, read from its environment variable or file when a request needs it. A missing one fails
 * that tenant's requests (`KandjiTokenMissingError`: its streams go `blocked`), not the worker.
 */
export function tenantTokenProvider(
  entry: TenantEntry,
  env: Record<string, string | undefined>,
  fileOpts?: FileTokenOptions,
): TokenProvider {
  return 'env' in entry.token
    ? envTokenProvider(entry.name, entry.token.env, env)
    : fileTokenProvider(entry.name, entry.token.file, fileOpts);
}

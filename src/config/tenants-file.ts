/**
 * Many tenants from one file (KANDJI_TENANTS_FILE, YAML or JSON). Each tenant names its Kandji API URL, where its
 * token comes from (an environment variable or a file — never the token itself), its streams, poll intervals,
 * request budget and extra tags. Validated with zod; every error names the tenant and the field.
 *
 * tenants:
 *   - name: acme
 *     apiUrl: https://acme.api.kandji.io
 *     token: { env: ACME_KANDJI_TOKEN }        # or { file: /var/run/secrets/acme/kandji-token }
 *     streams: [audit, detections]             # default: KANDJI_STREAMS's default
 *     pollIntervals: { audit: 1m, detections: 15m, threats: 5m }
 *     requestsPerHour: 5000
 *     tags: [team:secops]
 */
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration';
import { ConfigError } from './env';

const duration = z.string().transform((s, ctx) => {
  try {
    const ms = parseDuration(s);
    if (ms <= 0) throw new Error('must be more than 0');
    return ms;
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const tenantSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes, e.g. acme'),
    apiUrl: z.string({ error: 'required: the Kandji API URL, e.g. https://acme.api.kandji.io' }),
    token: z.union(
      [z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }).strict(), z.object({ file: z.string().min(1) }).strict()],
      { error: 'expected { env: VARIABLE_NAME } or { file: /path/to/token } (never the token itself)' },
    ),
    streams: z.array(z.enum(['audit', 'detections', 'threats'])).min(1).optional(),
    pollIntervals: z.object({ audit: duration.optional(), detections: duration.optional(), threats: duration.optional() }).strict().optional(),
    requestsPerHour: z.number().int().min(1).max(10_000).optional(),
    tags: z.array(z.string().regex(/^[^,\s]+$/, 'a tag has no commas or spaces, e.g. team:secops')).optional(),
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
    throw new ConfigError([`KANDJI_TENANTS_FILE: cannot read ${path}: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([`KANDJI_TENANTS_FILE: ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`]);
  }
  const top = fileSchema.safeParse(doc);
  if (!top.success) {
    throw new ConfigError(top.error.issues.map((i) => `KANDJI_TENANTS_FILE: ${i.path.join('.') || '(file)'}: ${i.message}; expected { tenants: [ … ] }`));
  }
  const problems: string[] = [];
  const tenants: TenantEntry[] = [];
  top.data.tenants.forEach((raw, index) => {
    const name = (raw as { name?: unknown })?.name;
    const label = `tenant ${typeof name === 'string' ? `"${name}"` : `#${index + 1}`}`;
    const parsed = tenantSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) problems.push(`KANDJI_TENANTS_FILE: ${label}: ${i.path.join('.') || '(entry)'}: ${i.message}`);
      return;
    }
    if (tenants.some((t) => t.name === parsed.data.name)) problems.push(`KANDJI_TENANTS_FILE: ${label}: name: listed twice`);
    tenants.push(parsed.data as TenantEntry);
  });
  if (problems.length) throw new ConfigError(problems);
  return tenants;
}

/** The token of a tenant, from its environment variable or file. */
export function readTenantToken(entry: TenantEntry, env: Record<string, string | undefined>): string {
  if ('env' in entry.token) {
    const v = env[entry.token.env];
    if (!v) throw new ConfigError([`KANDJI_TENANTS_FILE: tenant "${entry.name}": token: environment variable ${entry.token.env} is not set`]);
    return v.trim();
  }
  try {
    const v = fs.readFileSync(entry.token.file, 'utf8').trim();
    if (!v) throw new Error('the file is empty');
    return v;
  } catch (err) {
    throw new ConfigError([`KANDJI_TENANTS_FILE: tenant "${entry.name}": token: cannot read ${entry.token.file}: ${(err as Error).message}`]);
  }
}

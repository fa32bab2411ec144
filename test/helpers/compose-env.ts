/**
 * docker-compose.yml as Compose reads it: the `.env` file, then `${…}` interpolation of every value, with Compose's
 * rules (https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/): `${VAR:-default}`
 * when VAR is unset or empty, `${VAR-default}` when unset only, `${VAR:?message}` / `${VAR?message}` fail,
 * `${VAR:+alt}` / `${VAR+alt}`, `$VAR`, and `$$` for a literal `$`. The shell's variables win over the file's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/image-command';

type Vars = Record<string, string | undefined>;

/** KEY=value lines of an env file; `#` comments; optional single or double quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    const raw = m[2]!;
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    out[m[1]!] = quoted ? quoted[2]! : raw.replace(/\s+#.*$/, '');
  }
  return out;
}

export function interpolate(value: string, vars: Vars): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      if (bare) return vars[bare] ?? '';
      const v = vars[name!];
      const missing = v === undefined || (colon === ':' && v === '');
      if (op === '-') return missing ? interpolate(arg!, vars) : v!;
      if (op === '?') {
        if (missing) throw new Error(`required variable ${name} is missing a value: ${arg}`);
        return v!;
      }
      if (op === '+') return missing ? '' : interpolate(arg!, vars);
      return v ?? '';
    },
  );
}

function interpolateAll(node: unknown, vars: Vars): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, vars));
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, vars)]));
  return node;
}

export interface ComposeService {
  command?: string[];
  environment: Record<string, string>;
  [key: string]: unknown;
}

/**
 * The services of docker-compose.yml, interpolated from `envFile` (text) and `shell` (which wins), with each
 * service's environment as the container gets it (strings; list form `KEY=value` too).
 */
export function composeServices(envFile: string, shell: Vars = {}): Record<string, ComposeService> {
  const vars: Vars = { ...parseEnvFile(envFile), ...shell };
  const compose = interpolateAll(parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')), vars) as {
    services: Record<string, Record<string, unknown>>;
  };
  return Object.fromEntries(
    Object.entries(compose.services).map(([name, s]) => {
      const env = s.environment ?? {};
      const environment = Array.isArray(env)
        ? Object.fromEntries(env.map((kv: string) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]))
        : Object.fromEntries(
            Object.entries(env as object)
              .filter(([, v]) => v !== null) // `KEY:` alone passes the shell's KEY, unset here
              .map(([k, v]) => [k, String(v)]),
          );
      return [name, { ...s, environment } as ComposeService];
    }),
  );
}

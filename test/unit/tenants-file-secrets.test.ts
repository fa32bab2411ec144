/**
 * A malformed tenants file never echoes a value in its errors: a token pasted in the wrong field, as a key, or
 * breaking the syntax must not reach a log. Every message still names the tenant, the field and what is expected.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadWorkerConfig } from '../../src/config/env';

// What a Kandji token looks like (a UUID), and a longer opaque secret.
const TOKEN = '0b7e6d2c-9f4a-4c1e-8d3b-5a6f7e8d9c0b';
const SECRET = 'kdj_live_Zq8xW3vN5mT2pL9rK4hJ7gF1dS6aY0cB';

function writeTemp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-secrets-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(file: string): string[] {
  try {
    loadWorkerConfig({ KANDJI_TENANTS_FILE: file, DD_API_KEY: 'k' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    for (const secret of [TOKEN, SECRET, TOKEN.slice(0, 12), SECRET.slice(0, 12)]) {
      expect(e.message).not.toContain(secret);
      expect(e.problems.join('\n')).not.toContain(secret);
    }
    return e.problems;
  }
  throw new Error('expected a ConfigError');
}

describe('tenants file errors never echo a value', () => {
  it('names tenant and field, never the value, in every field', () => {
    const problems = problemsOf(
      writeTemp(
        'tenants.json',
        JSON.stringify({
          tenants: [
            {
              name: 'acme',
              apiUrl: TOKEN,
              token: SECRET,
              streams: ['audit', TOKEN],
              pollIntervals: { audit: TOKEN, detections: SECRET },
              requestsPerHour: SECRET,
              tags: [`team:${TOKEN},x`],
            },
            { name: 'globex', apiUrl: `https://${TOKEN}.example.com`, token: { env: TOKEN } },
            {
              name: 'initech',
              apiUrl: 'https://initech.api.kandji.io',
              token: { file: 'ok', [SECRET]: 1 },
              [TOKEN]: SECRET,
            },
            { name: SECRET, apiUrl: 'https://x.api.kandji.io', token: { env: 'X' } },
          ],
        }),
      ),
    );
    const text = problems.join('\n');
    expect(text).toMatch(/tenant "acme": token: expected \{ env: VARIABLE_NAME \} or \{ file: \/path\/to\/token \}/);
    expect(text).toMatch(/tenant "acme": streams\.1: .*expected one of/);
    expect(text).toMatch(/tenant "acme": pollIntervals\.audit: expected a duration/);
    expect(text).toMatch(/tenant "acme": pollIntervals\.detections: expected a duration/);
    expect(text).toMatch(/tenant "acme": requestsPerHour: .*expected number/);
    expect(text).toMatch(/tenant "acme": tags\.0: a tag has no commas or spaces/);
    expect(text).toMatch(/tenant "globex": token\.env: expected an environment variable name/);
    expect(text).toMatch(/tenant "initech": token: /);
    expect(text).toMatch(/tenant "initech": \(entry\): unknown field \(a key that is no field name; not shown\)/);
    expect(text).toMatch(/tenant #4: name: expected lower-case letters/);
  });

  it('a bad apiUrl names the field and what is expected', () => {
    const problems = problemsOf(
      writeTemp('url.json', JSON.stringify({ tenants: [{ name: 'acme', apiUrl: TOKEN, token: { env: 'X' } }] })),
    );
    expect(problems).toEqual([
      'KANDJI_TENANTS_FILE: tenant "acme": apiUrl: expected a URL such as https://acme.api.kandji.io',
    ]);
    const http = problemsOf(
      writeTemp(
        'url2.json',
        JSON.stringify({ tenants: [{ name: 'acme', apiUrl: `http://${TOKEN}.example.com/`, token: { env: 'X' } }] }),
      ),
    );
    expect(http).toEqual([
      'KANDJI_TENANTS_FILE: tenant "acme": apiUrl: must be https (plain http is allowed only for loopback hosts)',
    ]);
  });

  it('a syntax error says where, not what', () => {
    const yaml = problemsOf(writeTemp('tenants.yaml', `tenants:\n  - name: acme\n    token: ${TOKEN}: ${SECRET}: x\n`));
    expect(yaml).toHaveLength(1);
    expect(yaml[0]).toMatch(/is not valid YAML near line 3, column \d+$/);
    const json = problemsOf(writeTemp('tenants.json', `{"tenants": [{"name": "acme", "token": ${SECRET}}]}`));
    expect(json).toHaveLength(1);
    expect(json[0]).toMatch(/is not valid JSON near line 1, column \d+$/);
    const top = problemsOf(writeTemp('top.json', JSON.stringify({ tenants: [], [SECRET]: TOKEN })));
    expect(top.join('\n')).toMatch(/unknown field \(a key that is no field name; not shown\)/);
  });
});

/**
 * DD_API_KEY_FILE, KANDJI_API_TOKEN_FILE, TEMPORAL_API_KEY_FILE: secrets from files (Compose `secrets:`, mounted
 * Kubernetes Secrets), read at start and re-read when the file changes, so a rotation needs no restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ConfigError } from '../../src/config/config-error';
import { loadTemporalConfig, loadWorkerConfig } from '../../src/config/env';
import { secretFileReader } from '../../src/config/secret-file';
import { watchApiKeyFile } from '../../src/processes/worker/api-key-rotation';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-secrets-'));
afterAll(() => fs.rmSync(dir, { recursive: true }));
const secretFile = (name: string, value: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${value}\n`);
  return file;
};
const base = { KANDJI_API_URL: 'https://acme.api.kandji.io' };

describe('secrets from files', () => {
  it('the worker reads the Kandji token and the Datadog key from their files, and re-reads them on rotation', () => {
    const tokenFile = secretFile('kandji-token', 'token-1');
    const keyFile = secretFile('dd-key', 'key-1');
    const c = loadWorkerConfig({ ...base, KANDJI_API_TOKEN_FILE: tokenFile, DD_API_KEY_FILE: keyFile });
    const token = c.tenants[0]!.token as () => string;
    expect(token()).toBe('token-1');
    expect(c.datadogApiKeyReader!()).toBe('key-1');
    expect(c.kandjiToken).toBeUndefined(); // the token is not a fixed string that would override the file
    // Rotation: the readers check the file at most every 5 s; a new reader over the same file sees the new value.
    fs.writeFileSync(keyFile, 'key-2-longer\n');
    expect(secretFileReader(keyFile)()).toEqual({ value: 'key-2-longer' });
  });

  it('a reader re-reads a file when it changes, and reports a missing one by name', () => {
    let clock = 0;
    const file = secretFile('rotating', 'one');
    const read = secretFileReader(file, { checkEveryMs: 1_000, now: () => clock });
    expect(read()).toEqual({ value: 'one' });
    fs.writeFileSync(file, 'two-changed');
    expect(read()).toEqual({ value: 'one' }); // not checked again yet
    clock += 1_000;
    expect(read()).toEqual({ value: 'two-changed' });
    fs.rmSync(file);
    clock += 1_000;
    expect(read()).toEqual({ problem: `cannot read ${file}: ENOENT` });
  });

  it('the Temporal API key from TEMPORAL_API_KEY_FILE (the CLI too), and its file for rotation', () => {
    const file = secretFile('temporal-key', 'tk-1');
    const t = loadTemporalConfig({ TEMPORAL_API_KEY_FILE: file });
    expect(t.apiKey).toBe('tk-1');
    expect(t.apiKeyFile).toBe(file);
  });

  it('refuses a missing or empty file, and a secret set both ways, naming the variable and never a value', () => {
    const empty = secretFile('empty', '');
    const problems = (env: Record<string, string>) => {
      try {
        loadWorkerConfig({ ...base, ...env });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ KANDJI_API_TOKEN_FILE: path.join(dir, 'nope'), DD_API_KEY_FILE: empty })).toEqual([
      `KANDJI_API_TOKEN_FILE: cannot read ${path.join(dir, 'nope')}: ENOENT`,
      `DD_API_KEY_FILE: ${empty} is empty`,
    ]);
    const both = problems({ KANDJI_API_TOKEN: 'tok-SECRET', DD_API_KEY: 'k', DD_API_KEY_FILE: secretFile('k2', 'x') });
    expect(both).toEqual(['DD_API_KEY_FILE: set either it or DD_API_KEY, not both']);
  });

  it('the worker replaces the Temporal API key when its file changes', async () => {
    const file = secretFile('temporal-rotating', 'tk-1');
    const set: string[] = [];
    const stop = watchApiKeyFile({
      file,
      current: 'tk-1',
      setApiKey: async (k) => void set.push(k),
      logger: { info: () => undefined, warn: () => undefined } as never,
      everyMs: 10,
    });
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(file, 'tk-2-rotated');
    for (let i = 0; i < 100 && set.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop();
    expect(set).toEqual(['tk-2-rotated']);
  });
});

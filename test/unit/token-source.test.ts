/** Tenant tokens read when needed: a missing one is a typed, non-retryable failure; a token file is re-read on change. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { KandjiClient } from '../../src/kandji/client';
import { envTokenProvider, fileTokenProvider } from '../../src/kandji/token-source';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../workflows/shared/failure-policy';
import { FailureType } from '../../workflows/shared/failure-types';
import { stateAfter } from '../../workflows/stream-runtime';

const TOKEN_A = '6f1c2a3b-4d5e-4f60-8a7b-000000000001';
const TOKEN_B = '6f1c2a3b-4d5e-4f60-8a7b-000000000002';

function failureOf(f: () => unknown): ApplicationFailure {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

describe('token providers', () => {
  it('a missing environment variable is a non-retryable KandjiTokenMissingError naming the variable; the stream goes blocked', () => {
    const env: Record<string, string | undefined> = {};
    const f = failureOf(envTokenProvider('globex', 'GLOBEX_TOKEN', env));
    expect(f.type).toBe(FailureType.KandjiTokenMissing);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/tenant "globex": Kandji token missing: environment variable GLOBEX_TOKEN is not set/);
    expect(NON_RETRYABLE_FAILURE_TYPES).toContain(FailureType.KandjiTokenMissing);
    expect(stateAfter(FailureType.KandjiTokenMissing)).toBe('blocked'); // re-checked slowly
    env.GLOBEX_TOKEN = ` ${TOKEN_A}\n`;
    expect(envTokenProvider('globex', 'GLOBEX_TOKEN', env)()).toBe(TOKEN_A);
  });

  it('re-reads a token file when it changes, at most every checkEveryMs, and reports a missing or empty one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdd-token-'));
    const file = path.join(dir, 'token');
    let clock = 0;
    const get = fileTokenProvider('acme', file, { checkEveryMs: 5_000, now: () => clock });

    const missing = failureOf(get);
    expect(missing.type).toBe(FailureType.KandjiTokenMissing);
    expect(missing.message).toContain(`cannot read ${file}: ENOENT`);

    fs.writeFileSync(file, `${TOKEN_A}\n`);
    expect(failureOf(get).type).toBe(FailureType.KandjiTokenMissing); // not checked again yet
    clock += 5_000;
    expect(get()).toBe(TOKEN_A);

    // Rotation: a new token in the same file (as a Kubernetes secret update) is used after the next check.
    fs.writeFileSync(file, `${TOKEN_B}\n`);
    clock += 1_000;
    expect(get()).toBe(TOKEN_A);
    clock += 4_000;
    expect(get()).toBe(TOKEN_B);

    fs.writeFileSync(file, '  \n');
    clock += 5_000;
    const empty = failureOf(get);
    expect(empty.message).toContain('is empty');
    expect(empty.message).not.toContain(TOKEN_B);

    fs.rmSync(file);
    clock += 5_000;
    expect(failureOf(get).message).toContain('ENOENT');
    fs.writeFileSync(file, TOKEN_A);
    clock += 5_000;
    expect(get()).toBe(TOKEN_A);
  });

  it('the Kandji client asks its provider before spending budget, and sends the current token', async () => {
    const sent: string[] = [];
    const server = http.createServer((req, res) => {
      sent.push(String(req.headers.authorization));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let current: string | undefined;
    let acquired = 0;
    const client = new KandjiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      token: () => {
        if (!current) throw new Error('no token');
        return current;
      },
      gate: {
        acquire: async () => {
          acquired += 1;
        },
      },
    });
    try {
      await expect(client.getJson('/api/v1/audit/events')).rejects.toThrow('no token');
      expect(acquired).toBe(0);
      current = TOKEN_A;
      await client.getJson('/api/v1/audit/events');
      current = TOKEN_B;
      await client.getJson('/api/v1/audit/events');
      expect(sent).toEqual([`Bearer ${TOKEN_A}`, `Bearer ${TOKEN_B}`]);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });
});

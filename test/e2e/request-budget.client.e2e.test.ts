/**
 * A 429 is never waited out past the calling attempt: a Retry-After longer than the attempt has left ends it with a
 * benign KandjiBudgetWait failure carrying the wait (the stream workflow waits it out durably), while one that fits
 * is waited out inside the request as before.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { KandjiClient } from '../../src/kandji/client';
import { budgetWaitOf } from '../../workflows/request-budget';
import { FailureType } from '../../workflows/shared/failure-types';

describe('KandjiClient 429 within the attempt', () => {
  let server: http.Server;
  let base: string;
  let calls = 0;
  let retryAfter = '30';
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      calls += 1;
      if (calls === 1) {
        res.writeHead(429, { 'retry-after': retryAfter });
        res.end('{"detail":"Request was throttled."}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"results":[],"next":null}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    calls = 0;
  });

  it('ends the attempt with a benign budget wait when Retry-After is longer than the attempt has left', async () => {
    retryAfter = '30';
    const client = new KandjiClient({
      baseUrl: base,
      token: 't',
      attempt: () => ({ deadline: Date.now() + 5_000, owner: 'wf/act', priority: 'live' }),
    });
    try {
      const err = await client.getJson('/api/v1/audit/events').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      const f = err as ApplicationFailure;
      expect(f.type).toBe(FailureType.KandjiBudgetWait);
      expect(f.nonRetryable).toBe(true);
      expect(f.category).toBe(ApplicationFailureCategory.BENIGN);
      expect(budgetWaitOf(f)).toBe(30_000);
      expect(calls).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('waits out a Retry-After that fits in the attempt', async () => {
    retryAfter = '1';
    const client = new KandjiClient({
      baseUrl: base,
      token: 't',
      attempt: () => ({ deadline: Date.now() + 60_000, owner: 'wf/act', priority: 'live' }),
    });
    try {
      await expect(client.getJson('/api/v1/audit/events')).resolves.toEqual({ results: [], next: null });
      expect(calls).toBe(2);
    } finally {
      await client.close();
    }
  });
});

/** /readyz says whether the worker polls; a Temporal outage shows in its body, never as an unready pod. */
import { startHealthServer, type HealthServer } from '../../src/telemetry/health-server';

describe('health server', () => {
  let server: HealthServer | undefined;
  afterEach(async () => server?.close());

  const start = async (running: boolean, temporalUp: boolean) => {
    server = await startHealthServer(
      {
        workerRunning: () => running,
        temporalAnswers: () => (temporalUp ? Promise.resolve({}) : Promise.reject(new Error('14 UNAVAILABLE'))),
      },
      { port: 0, host: '127.0.0.1' },
    );
    const r = await fetch(`${server.url}/readyz`);
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  };

  it('is ready while the worker polls, with Temporal answering', async () => {
    expect(await start(true, true)).toEqual({
      status: 200,
      body: { status: 'ready', worker: 'running', temporal: 'ok' },
    });
  });

  it('stays ready during a Temporal outage (the Agent keeps collecting, drains are not blocked), and says so', async () => {
    expect(await start(true, false)).toEqual({
      status: 200,
      body: { status: 'ready', worker: 'running', temporal: '14 UNAVAILABLE' },
    });
  });

  it('is not ready while the worker does not poll', async () => {
    expect((await start(false, true)).status).toBe(503);
  });
});

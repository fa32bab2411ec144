/**
 * A stop that arrives while a continue-as-new waits for handlers to finish (stream-runtime.ts). The moment is one
 * activation wide: a handler still running (a backfill starting its child) when the run is due to continue as new,
 * and the stop signal delivered before that handler ends. The time-skipping server gives a test no hold on that
 * order, so the runtime runs here with the few workflow APIs it calls replaced: the test decides when handlers
 * finish and when the stop arrives.
 */
import type { StreamTimings } from '../../workflows/shared/stream-input';
import { createStreamRuntime } from '../../workflows/stream-runtime';

// jest.mock is hoisted above the imports; its fakes read these only when the runtime calls them.
const handlers = new Map<string, (...args: unknown[]) => unknown>();
let handlersFinished = true;
const waiting: { fn: () => boolean; resolve: (v: boolean) => void }[] = [];

jest.mock('@temporalio/workflow', () => {
  const actual = jest.requireActual('@temporalio/workflow');
  return {
    ...actual,
    allHandlersFinished: () => handlersFinished,
    // Timers never fire here: a wait ends only when its condition holds.
    condition: (fn: () => boolean) => new Promise<boolean>((resolve) => waiting.push({ fn, resolve })),
    log: { info: () => undefined, warn: () => undefined },
    patched: () => true,
    setHandler: (def: { name: string }, handler: (...args: unknown[]) => unknown) => handlers.set(def.name, handler),
    workflowInfo: () => ({ continueAsNewSuggested: true, unsafe: { isReplaying: false } }),
    // The gauges the runtime publishes (gauge-publisher.ts) are not what this file looks at.
    upsertMemo: () => undefined,
    proxySinks: () => ({ gauges: { cursor: () => undefined } }),
  };
});

/** Lets the runtime's promises run, then ends the waits whose condition holds (as an activation's end does). */
async function activation(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    for (const w of waiting.splice(0))
      if (w.fn()) w.resolve(true);
      else waiting.push(w);
  }
}

const timings: StreamTimings = { pollIntervalMs: 60_000, authRecheckMs: 300_000, errorBackoffMs: 30_000 };

function runtimeDueToContinue() {
  handlers.clear();
  waiting.length = 0;
  const runtime = createStreamRuntime(
    't-1',
    'audit',
    { since: '2026-03-01T00:00:00Z', page: null },
    timings,
    undefined,
  );
  const continued = jest.fn(() => new Promise<never>(() => undefined));
  runtime.setContinueAsNew(continued);
  return { runtime, continued };
}

describe('stream runtime: a stop while continue-as-new waits for handlers', () => {
  afterEach(() => {
    handlersFinished = true;
  });

  it('at the top of a round: the run does not continue as new, and the round reports the stop', async () => {
    const { runtime, continued } = runtimeDueToContinue();
    handlersFinished = false; // a backfill's handler is still starting its child
    const round = runtime.nextRound();
    await activation();
    expect(continued).not.toHaveBeenCalled();

    handlers.get('stop')!(); // the stop arrives before that handler ends
    handlersFinished = true;
    await activation();
    expect(continued).not.toHaveBeenCalled();
    await expect(round).resolves.toBe(false);
  });

  it('between attempts of a failing step: the step ends (undefined), is not tried again, and the run does not continue as new', async () => {
    const { runtime, continued } = runtimeDueToContinue();
    const step = jest.fn(() => Promise.reject(new Error('Datadog is down')));
    const done = runtime.untilDone('ship', step);
    await activation();
    expect(step).toHaveBeenCalledTimes(1);

    handlersFinished = false;
    handlers.get('resume')!(); // cuts the failure wait short: the run is due to continue as new
    await activation();
    handlers.get('stop')!();
    handlersFinished = true;
    await activation();
    expect(continued).not.toHaveBeenCalled();
    await expect(done).resolves.toBeUndefined();
    expect(step).toHaveBeenCalledTimes(1);
  });
});

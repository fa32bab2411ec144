/**
 * Lines written while an activity runs carry the ids of its workflow run and attempt (and tenant and stream, as
 * before), also from code the activity calls; outside an activity the same code logs without them.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityLogger } from '../../activities/activity-logger';
import type { ActivityDeps, TenantDeps } from '../../activities/deps';
import { shipRecords, type ShipRecordsInput } from '../../activities/ship-records';
import { capturingLogger } from '../helpers/capture-logger';

function depsWith(logger: ActivityDeps['logger']): ActivityDeps {
  // Datadog takes every batch, a little later (so that two activities' requests interleave).
  const datadog = { send: () => new Promise<void>((r) => setTimeout(r, 5)) };
  return {
    tenants: new Map([['acme', { kandji: {} as TenantDeps['kandji'], ddtags: 'kandji_tenant:acme' }]]),
    datadog,
    logger,
  };
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `e${i}`, occurred_at: new Date().toISOString(), action: 'update' }));
const batch = (n: number): ShipRecordsInput => ({ tenant: 'acme', stream: 'audit', records: records(n) });

/** An activity that ships records (as the audit ship activities and the sweeps do). */
const shipping = (deps: ActivityDeps) => (input: ShipRecordsInput) => shipRecords(deps, input);

const info = (run: string, attempt: number) => ({
  workflowExecution: { workflowId: 'kandji-datadog/acme/audit', runId: run },
  workflowType: 'auditStream',
  activityId: `act-${run}`,
  activityType: 'shipAuditPage',
  attempt,
  taskQueue: 'kandji-datadog',
});

describe('activityLogger', () => {
  it("puts the running activity's workflow and activity ids on lines written by the code it calls", async () => {
    const { logger, lines } = capturingLogger();
    await new MockActivityEnvironment(info('run-1', 3)).run(shipping(depsWith(logger)), batch(2));
    const shipped = lines.find((l) => l.msg === 'shipped to Datadog');
    expect(shipped).toMatchObject({
      service: 'kandji-datadog',
      level: 'info',
      tenant: 'acme',
      stream: 'audit',
      shipped: 2,
      workflowId: 'kandji-datadog/acme/audit',
      workflowRunId: 'run-1',
      workflowType: 'auditStream',
      activityId: 'act-run-1',
      activityType: 'shipAuditPage',
      attempt: 3,
      taskQueue: 'kandji-datadog',
    });
    // The task token completes the activity: it stays out of the logs.
    expect(shipped).not.toHaveProperty('taskToken');
  });

  it('keeps the ids of activities running at the same time apart', async () => {
    const { logger, lines } = capturingLogger();
    const ship = shipping(depsWith(logger));
    await Promise.all(
      ['run-a', 'run-b'].map((run, i) => new MockActivityEnvironment(info(run, i + 1)).run(ship, batch(1 + i))),
    );
    const shipped = lines
      .filter((l) => l.msg === 'shipped to Datadog')
      .map((l) => [l.workflowRunId, l.attempt, l.shipped]);
    expect(shipped.sort()).toEqual([
      ['run-a', 1, 1],
      ['run-b', 2, 2],
    ]);
  });

  it('outside an activity (a script, a unit test) logs with the given bindings only', async () => {
    const { logger, lines } = capturingLogger();
    await shipRecords(depsWith(logger), batch(1));
    const shipped = lines.find((l) => l.msg === 'shipped to Datadog');
    expect(shipped).toMatchObject({ tenant: 'acme', stream: 'audit', shipped: 1 });
    expect(shipped).not.toHaveProperty('workflowId');
    activityLogger({ logger }, { tenant: 'acme' }).info('plain');
    expect(lines.at(-1)).toMatchObject({ tenant: 'acme', msg: 'plain' });
  });
});

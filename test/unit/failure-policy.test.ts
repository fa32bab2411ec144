/**
 * The failure policy (workflows/shared/failure-policy.ts) says what the code does: every failure type has one row;
 * the activity failure built for each answer of Kandji and Datadog, and each failure raised without one, has its
 * row's type, retryability and category; and the stream runtime shows each type in its row's state.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { tenantDeps, type ActivityDeps } from '../../activities/deps';
import { refusedAllFailure, toApplicationFailure } from '../../activities/failures';
import { shipAuditPageActivity } from '../../activities/ship-audit-page';
import { SnapshotChunks } from '../../activities/snapshot-chunks';
import { DatadogRefusedAll } from '../../src/datadog/shipper';
import { budgetWaitFailure } from '../../src/kandji/attempt';
import { unlicensedError } from '../../src/kandji/behavioral-pages';
import { tokenMissing } from '../../src/kandji/token-source';
import { RemoteError, kindOfStatus, networkError } from '../../src/remote-errors';
import { PageStore } from '../../src/streams/page-store';
import { initialAuditCursor } from '../../workflows/shared/audit-cursor';
import { FAILURE_POLICY, type FailurePolicy } from '../../workflows/shared/failure-policy';
import { FailureType, type FailureTypeName } from '../../workflows/shared/failure-types';
import { stateAfter } from '../../workflows/stream-runtime';

const BENIGN = ApplicationFailureCategory.BENIGN;
const ROWS = Object.entries(FAILURE_POLICY) as [FailureTypeName, FailurePolicy][];
type Service = 'kandji' | 'datadog';

/** One answer of a remote, as its client turns it into a RemoteError. */
interface Answer {
  said: string;
  error: RemoteError;
}

/** Every answer the clients tell apart: each status from 400 to 599, no answer, an unreadable body, an unsafe link. */
function answersOf(service: Service): Answer[] {
  const statuses = Array.from({ length: 200 }, (_, i) => 400 + i).map((status) => ({
    said: `${status}`,
    error: new RemoteError(service, kindOfStatus(status), `answered ${status}`, { status }),
  }));
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  return [
    ...statuses,
    { said: 'no answer', error: networkError(service, reset) },
    { said: 'an unreadable 200', error: new RemoteError(service, 'bad_response', 'not JSON', { status: 200 }) },
    { said: 'an unsafe link', error: new RemoteError(service, 'unsafe_link', 'a next link elsewhere') },
  ];
}

/** Kandji's 403 and 404 on an endpoint the tenant has no licence for (behavioral detections without EDR). */
const UNLICENSED: Answer[] = [403, 404].map((status) => ({
  said: `${status} unlicensed`,
  error: unlicensedError(new RemoteError('kandji', kindOfStatus(status), `answered ${status}`, { status })),
}));

/** Written out here, not read from the code: the answers that say "later" (`if later`). */
const SAYS_LATER = ['408', '429', '502', '503', '504', 'no answer'];

function benignFor(row: FailurePolicy, said: string): boolean {
  if (row.benign === 'if later') return SAYS_LATER.includes(said);
  if (row.benign === 'if unlicensed') return said.endsWith('unlicensed');
  return row.benign === 'always';
}

/** The rows that list `error`'s kind for its service. */
const rowsOf = (error: RemoteError) => ROWS.filter(([, row]) => row[error.service]?.includes(error.kind));

/** The failures raised without a remote answer, built (returned or thrown) as the code builds them. */
const LOCAL: Partial<Record<FailureTypeName, () => Promise<unknown>>> = {
  [FailureType.KandjiTokenMissing]: async () => tokenMissing('acme', 'file is empty'),
  [FailureType.DatadogRefusedAll]: async () => refusedAllFailure(new DatadogRefusedAll('refused', 404, 'no route')),
  [FailureType.KandjiBudgetWait]: async () => budgetWaitFailure(90_000, 'budget spent'),
  [FailureType.UnknownTenant]: async () => tenantDeps({ tenants: new Map() } as unknown as ActivityDeps, 'nobody'),
  [FailureType.SnapshotStateMissing]: () => {
    const gone = { query: () => Promise.reject(new WorkflowNotFoundError('gone', 'chunk', undefined)) };
    const client = { workflow: { getHandle: () => gone } } as unknown as Client;
    return new SnapshotChunks(client, 'stream', 'queue').read('g1', 0);
  },
  [FailureType.PageNotHeld]: () => {
    const ship = shipAuditPageActivity({ pages: new PageStore() } as unknown as ActivityDeps);
    const cursor = initialAuditCursor('2026-03-01T00:00:00.000Z');
    return new MockActivityEnvironment().run(ship, { tenant: 'acme', pageId: 'p', cursor, digestElided: true });
  },
};

/** Local failures built deep inside an activity, with the reason this test does not build them. */
const NOT_BUILT_HERE: Partial<Record<FailureTypeName, string>> = {
  [FailureType.SnapshotUnchanged]: 'raised by a whole snapshot sweep (test/unit/snapshot-sweep-progress.test.ts)',
  [FailureType.KandjiUnavailable]:
    'raised when the budget workflow does not answer in time (src/kandji/budget-reservations.ts)',
};

async function failureOf(build: () => Promise<unknown>): Promise<ApplicationFailure> {
  const err = await build().catch((e: unknown) => e); // returned by some builders, thrown by the others
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('the failure policy', () => {
  it('has exactly one row for every failure type, and no other', () => {
    expect(Object.keys(FAILURE_POLICY).sort()).toEqual(Object.values(FailureType).sort());
  });

  it('says where every failure type comes from', () => {
    for (const [, row] of ROWS) expect(row.kandji ?? row.datadog ?? row.local).toBeDefined();
  });

  describe.each(['kandji', 'datadog'] as const)('each answer of %s', (service) => {
    const answers = service === 'kandji' ? [...answersOf(service), ...UNLICENSED] : answersOf(service);

    it.each(answers.map((a) => [a.said, a] as const))(
      'answering %s: the failure of its one row, retried and benign as the row says',
      (_said, { said, error }) => {
        const rows = rowsOf(error);
        expect(rows.map(([type]) => type)).toHaveLength(1);
        const [type, row] = rows[0]!;
        const failure = toApplicationFailure(error);
        expect(failure.type).toBe(type);
        expect(failure.nonRetryable).toBe(!row.retryable);
        expect(failure.category).toBe(benignFor(row, said) ? BENIGN : undefined);
      },
    );

    it.each(SAYS_LATER)('answering %s (later): retried, benign', (said) => {
      const failure = toApplicationFailure(answers.find((a) => a.said === said)!.error);
      expect(failure).toMatchObject({ nonRetryable: false, category: BENIGN });
    });

    it("every row that lists the service's answers is reached by one of them", () => {
      const reached = new Set(answers.flatMap((a) => rowsOf(a.error).map(([type]) => type)));
      expect(ROWS.filter(([, row]) => row[service]).map(([type]) => type)).toEqual(
        ROWS.filter(([type]) => reached.has(type)).map(([type]) => type),
      );
    });
  });

  describe('the failures raised without a remote answer', () => {
    const local = ROWS.filter(([, row]) => row.local !== undefined);

    it('are each built here, or say why not', () => {
      for (const [type] of local) expect(LOCAL[type] ?? NOT_BUILT_HERE[type]).toBeDefined();
    });

    it.each(local.filter(([type]) => LOCAL[type]))('%s: retried and benign as its row says', async (type, row) => {
      const failure = await failureOf(LOCAL[type]!);
      expect(failure.type).toBe(type);
      expect(failure.nonRetryable).toBe(!row.retryable);
      expect(failure.category).toBe(row.benign === 'always' ? BENIGN : undefined);
    });
  });

  it.each(ROWS)('the stream runtime shows %s as its row says', (type, row) => {
    expect(stateAfter(type)).toBe(row.state);
  });

  it('the stream runtime shows an error of no row as retrying', () => {
    expect(stateAfter('TimeoutError')).toBe('retrying');
    expect(stateAfter('constructor')).toBe('retrying');
  });
});

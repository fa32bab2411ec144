/**
 * Determinism: recorded histories of every supported version of the stream workflows (docs/versions.md) must replay
 * against the current workflow code. A change that breaks them needs `patched()`. A fresh history is recorded and
 * replayed too; set RECORD_HISTORIES=1 to (re)write test/histories/audit-stream-<version>.binpb from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { buildDataConverter } from '../../src/temporal/data-converter';
import { FORWARDER_VERSION } from '../../src/version';
import { workflowBundle } from '../helpers/harness';
import { recordAuditHistory, recordSnapshotHistory } from '../helpers/record-history';

const dataConverter = buildDataConverter();

const HISTORIES = path.join(__dirname, '../histories');

describe('workflow replay', () => {
  const recorded = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.binpb'));
  const load = (file: string) => temporal.api.history.v1.History.decode(fs.readFileSync(path.join(HISTORIES, file)));

  it('has at least one recorded history per released workflow', () => {
    expect(recorded.some((f) => f.startsWith('audit-stream-'))).toBe(true);
    expect(recorded.some((f) => f.startsWith('snapshot-stream-'))).toBe(true);
  });

  it.each(recorded)('replays %s', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, load(file));
  });

  it('replays a freshly recorded history (auth failure, backlog, live, caught up, stop)', async () => {
    const bytes = await recordAuditHistory();
    const history = temporal.api.history.v1.History.decode(bytes);
    expect(history.events.length).toBeGreaterThan(20);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history);
    if (process.env.RECORD_HISTORIES === '1') {
      fs.writeFileSync(path.join(HISTORIES, `audit-stream-${FORWARDER_VERSION}.binpb`), bytes);
    }
  });

  it('replays a freshly recorded snapshot (detections) history', async () => {
    const bytes = await recordSnapshotHistory();
    const history = temporal.api.history.v1.History.decode(bytes);
    expect(history.events.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history);
    if (process.env.RECORD_HISTORIES === '1') {
      fs.writeFileSync(path.join(HISTORIES, `snapshot-stream-${FORWARDER_VERSION}.binpb`), bytes);
    }
  });

  it('rejects a history whose commands the current code would not produce', async () => {
    const file = recorded.find((f) => f.startsWith('audit-stream-'))!;
    const history = load(file);
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history),
    ).rejects.toThrow(/[Nn]ondeterminis|DeterminismViolation/);
  });
});

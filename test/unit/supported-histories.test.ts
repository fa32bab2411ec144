/**
 * The recorded histories (test/histories/, replayed by test/e2e/replay.e2e.test.ts) are those of the supported
 * releases (docs/versions.md): none older than OLDEST_SUPPORTED_VERSION or newer than FORWARDER_VERSION, and an
 * audit-stream and a snapshot-stream history of each supported release.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FORWARDER_VERSION, OLDEST_SUPPORTED_VERSION } from '../../src/version';

const HISTORIES = path.join(__dirname, '../histories');
/** `<workflow>-<major>.<minor>.<patch>.binpb`, e.g. `request-budget-claims-0.3.0.binpb`. */
const NAMED = /^[a-z-]+-(?<version>\d+\.\d+\.\d+)\.binpb$/;

/** Negative, zero or positive as version `a` is older than, the same as, or newer than `b` (major.minor.patch). */
function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa![i] !== pb![i]) return pa![i]! - pb![i]!;
  return 0;
}

const recorded = fs
  .readdirSync(HISTORIES)
  .filter((f) => f.endsWith('.binpb'))
  .map((file) => ({ file, version: NAMED.exec(file)?.groups?.['version'] }));

describe('recorded workflow histories', () => {
  it('every history file is named <workflow>-<version>.binpb', () => {
    expect(recorded.filter((h) => !h.version).map((h) => h.file)).toEqual([]);
  });

  it('every history is of a supported version: none older than OLDEST_SUPPORTED_VERSION nor newer than this one', () => {
    const outside = recorded.filter(
      (h) =>
        h.version &&
        (compareVersions(h.version, OLDEST_SUPPORTED_VERSION) < 0 || compareVersions(h.version, FORWARDER_VERSION) > 0),
    );
    expect(outside.map((h) => h.file)).toEqual([]);
  });

  it('each supported release has an audit-stream and a snapshot-stream history', () => {
    const versions = new Set([OLDEST_SUPPORTED_VERSION, FORWARDER_VERSION, ...recorded.map((h) => h.version!)]);
    const files = new Set(recorded.map((h) => h.file));
    const missing = [...versions]
      .filter(Boolean)
      .flatMap((v) => [`audit-stream-${v}.binpb`, `snapshot-stream-${v}.binpb`])
      .filter((f) => !files.has(f));
    expect(missing).toEqual([]);
  });

  it('orders versions by number, not as text', () => {
    expect(compareVersions('0.10.0', '0.9.0')).toBeGreaterThan(0);
    expect(compareVersions('0.3.0', '0.3.0')).toBe(0);
    expect(compareVersions('0.2.9', '0.3.0')).toBeLessThan(0);
  });
});

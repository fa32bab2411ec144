/**
 * The baseline the product is measured against: a plain sequential loop with no Temporal at all — fetch a page of
 * 500 audit events, post batches of 1,000 gzip to the intake, repeat — using the service's own HTTP clients.
 */
import { DatadogIntakeClient } from '../../src/datadog/intake-client';
import { toLogItem } from '../../src/datadog/log-items';
import { parseAuditPage } from '../../src/kandji/audit-page';
import { KandjiClient } from '../../src/kandji/client';
import { toSameOriginPath } from '../../src/kandji/links';
import { AUDIT_EVENTS_PATH } from '../../workflows/shared/audit-cursor';

export async function plainLoop(opts: {
  kandjiUrl: string;
  token: string;
  intakeUrl: string;
  apiKey: string;
  since: string;
}): Promise<number> {
  const kandji = new KandjiClient({ baseUrl: opts.kandjiUrl, token: opts.token });
  const datadog = new DatadogIntakeClient({ intakeUrl: opts.intakeUrl, apiKey: opts.apiKey });
  let path: string | null =
    `${AUDIT_EVENTS_PATH}?${new URLSearchParams({ limit: '500', sort_by: 'occurred_at', start_date: opts.since })}`;
  let buffer: Record<string, unknown>[] = [];
  let shipped = 0;
  try {
    while (path) {
      const page = parseAuditPage(await kandji.getJson(path));
      buffer.push(...page.results.map((r) => toLogItem(r, { service: 'audit', ddtags: 'source:plain-loop' })));
      while (buffer.length >= 1_000) {
        await datadog.send(JSON.stringify(buffer.slice(0, 1_000)));
        buffer = buffer.slice(1_000);
        shipped += 1_000;
      }
      path = page.next ? toSameOriginPath(page.next, kandji.baseUrl, AUDIT_EVENTS_PATH) : null;
    }
    if (buffer.length > 0) {
      await datadog.send(JSON.stringify(buffer));
      shipped += buffer.length;
    }
  } finally {
    await kandji.close();
    await datadog.close();
  }
  return shipped;
}

/** Builds the activities' real dependencies (Kandji and Datadog clients) from the worker configuration. */
import type { Logger } from 'pino';
import type { ActivityDeps } from '../../activities';
import type { WorkerConfig } from '../config/env';
import { DatadogIntakeClient } from '../datadog/intake-client';
import { formatTags } from '../datadog/log-items';
import { Context } from '@temporalio/activity';
import { KandjiClient } from '../kandji/client';
import { TemporalRequestBudget } from '../kandji/request-budget';
import { FORWARDER_VERSION } from '../version';

export function buildActivityDeps(config: WorkerConfig, logger: Logger): ActivityDeps & { close(): Promise<void> } {
  const userAgent = `kandji-datadog/${FORWARDER_VERSION}`;
  const gate = new TemporalRequestBudget(() => Context.current().client, config.stream.tenant, config.stream.requestsPerHour, config.temporal.taskQueue);
  const kandji = new KandjiClient({ baseUrl: config.stream.kandjiUrl, token: config.kandjiToken, userAgent, gate });
  const datadog = new DatadogIntakeClient({ intakeUrl: config.datadogIntakeUrl, apiKey: config.datadogApiKey, userAgent });
  const ddtags = formatTags({ kandji_tenant: config.stream.tenant, forwarder_version: FORWARDER_VERSION }, config.extraTags);
  return {
    tenants: new Map([[config.stream.tenant, { kandji, ddtags, hostname: config.hostname, auditPageSize: config.stream.auditPageSize, auditOverlapMs: config.stream.auditOverlapMs }]]),
    datadog,
    logger,
    stalePolicy: config.stalePolicy,
    close: async () => {
      await Promise.all([kandji.close(), datadog.close()]);
    },
  };
}

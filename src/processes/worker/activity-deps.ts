/**
 * Builds the activities' real dependencies from the worker configuration. Every tenant gets its own Kandji client
 * and its own Datadog client, each with its own connection pool, so one tenant's backlog, slow answers or missing
 * token never delays another's requests.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { workerQueueName } from './worker-queue';
import type { ActivityDeps, TenantDeps } from '../../../activities';
import type { DatadogReadConfig } from '../../config/datadog-read';
import type { WorkerConfig } from '../../config/env';
import { DatadogIntakeClient } from '../../datadog/intake-client';
import { formatTags } from '../../datadog/log-items';
import { DatadogLogsReadClient } from '../../datadog/logs-read-client';
import { TemporalRequestBudget } from '../../kandji/budget-reservations';
import { KandjiClient } from '../../kandji/client';
import { PageStore } from '../../streams/page-store';
import { FORWARDER_VERSION } from '../../version';

/**
 * `read`: DD_APP_KEY and the API host (src/config/datadog-read.ts); off (the default), verify says so.
 * `budgetRemaining` is told what each answer of a tenant's request budget says is left this hour (its gauge).
 */
export function buildActivityDeps(
  config: WorkerConfig,
  logger: Logger,
  read: DatadogReadConfig = { on: false, reason: 'not configured' },
  budgetRemaining?: (tenant: string, remaining: number) => void,
): ActivityDeps & { close(): Promise<void> } {
  const userAgent = `kandji-datadog/${FORWARDER_VERSION}`;
  const newDatadog = () =>
    new DatadogIntakeClient({
      intakeUrl: config.datadogIntakeUrl,
      apiKey: config.datadogApiKeyReader ?? config.datadogApiKey,
      userAgent,
    });
  const datadog = newDatadog();
  const clients: { close(): Promise<void> }[] = [datadog];
  // The single-tenant fields may be overridden (tests swap the token); they win for the first tenant.
  const tenants = config.tenants.map((t, i) =>
    i === 0 ? { ...t, config: config.firstTenant, token: config.kandjiToken ?? t.token } : t,
  );
  const map = new Map<string, TenantDeps>();
  for (const entry of tenants) {
    const built = tenantDepsOf(entry, { config, logger, read, budgetRemaining, userAgent, newDatadog });
    clients.push(...built.clients);
    map.set(entry.config.tenant, built.deps);
  }
  return {
    tenants: map,
    datadog,
    logger,
    stalePolicy: config.stalePolicy,
    stalePolicies: config.stalePolicies,
    pages: new PageStore({ maxBytes: config.pageStoreMaxBytes }),
    workerQueue: workerQueueName(config.temporal.taskQueue),
    snapshotChunkRows: config.snapshotChunkRows,
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/** What every tenant's clients share: the worker's configuration and how to reach Datadog. */
interface SharedDeps {
  config: WorkerConfig;
  logger: Logger;
  read: DatadogReadConfig;
  budgetRemaining?: (tenant: string, remaining: number) => void;
  userAgent: string;
  newDatadog: () => DatadogIntakeClient;
}

/** One tenant's clients (Kandji within its request budget, Datadog, the logs read API) and settings. */
function tenantDepsOf(
  { config: tenant, token, stalePolicies }: WorkerConfig['tenants'][number],
  { config, logger, read, budgetRemaining, userAgent, newDatadog }: SharedDeps,
): { deps: TenantDeps; clients: { close(): Promise<void> }[] } {
  if (typeof token === 'function') {
    try {
      token();
    } catch (err) {
      // Not fatal: this tenant's streams show `blocked` with the reason; the others run.
      logger.warn(
        { tenant: tenant.tenant, reason: (err as Error).message },
        'Kandji token missing: this tenant is blocked until it is there',
      );
    }
  }
  const gate = new TemporalRequestBudget(
    () => Context.current().client,
    tenant.tenant,
    tenant.requestsPerHour,
    config.temporal.taskQueue,
    budgetRemaining ? { onRemaining: (remaining) => budgetRemaining(tenant.tenant, remaining) } : {},
  );
  const kandji = new KandjiClient({ baseUrl: tenant.kandjiUrl, token, userAgent, gate });
  const datadog = newDatadog();
  const datadogLogs = read.on
    ? new DatadogLogsReadClient({
        apiUrl: read.apiUrl,
        apiKey: config.datadogApiKeyReader ?? config.datadogApiKey,
        appKey: read.appKey,
        userAgent,
      })
    : undefined;
  const ddtags = formatTags({ kandji_tenant: tenant.tenant, forwarder_version: FORWARDER_VERSION }, [
    ...config.extraTags,
    ...(tenant.extraTags ?? []),
  ]);
  const deps: TenantDeps = {
    kandji,
    datadog,
    ddtags,
    hostname: config.hostname,
    auditPageSize: tenant.auditPageSize,
    auditOverlapMs: tenant.auditOverlapMs,
    behavioralWindowDays: tenant.behavioralWindowDays,
    ...(stalePolicies ? { stalePolicies } : {}),
    ...(datadogLogs ? { datadogLogs } : {}),
  };
  return { deps, clients: datadogLogs ? [kandji, datadog, datadogLogs] : [kandji, datadog] };
}

/** What the activities need from the outside world, handed to createActivities by the worker or a test. */
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { FailureType } from '../workflows/failure-types';
import type { KandjiClient } from '../src/kandji/client';
import type { DatadogIntakeClient } from '../src/datadog/intake-client';

export interface TenantDeps {
  kandji: Pick<KandjiClient, 'getJson' | 'baseUrl'>;
  /** Tags every log of this tenant carries, already formatted (kandji_tenant, forwarder_version, DD_TAGS). */
  ddtags: string;
  hostname?: string;
  /** Audit page size (`limit`), at most 500. */
  auditPageSize?: number;
}

export interface ActivityDeps {
  tenants: ReadonlyMap<string, TenantDeps>;
  datadog: Pick<DatadogIntakeClient, 'send'>;
  logger: Logger;
}

export function tenantDeps(deps: ActivityDeps, tenant: string): TenantDeps {
  const t = deps.tenants.get(tenant);
  if (!t) {
    throw ApplicationFailure.create({
      type: FailureType.UnknownTenant,
      nonRetryable: true,
      message: `this worker has no configuration for tenant "${tenant}" (known: ${[...deps.tenants.keys()].join(', ') || 'none'})`,
    });
  }
  return t;
}

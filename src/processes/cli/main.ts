/** `npm run -s cli -- <command>`: operate the stream workflows. */
import type { Client } from '@temporalio/client';
import { parseCommand, UsageError, type Command } from './args';
import { formatStatusTable } from './format-status';
import { helpText } from './help';
import { resetStateCommand } from './reset-state';
import { startLines } from './start-lines';
import { verifyCommand, verifyStatusLines } from './verify';
import { backfillRequestSchema, describeIssues } from '../../../workflows/shared/messages';
import { STREAMS } from '../../../workflows/shared/stream-status';
import { ConfigError } from '../../config/config-error';
import { loadTemporalConfig, loadTenantConfigs, type TenantConfig } from '../../config/env';
import { startPosition } from '../../streams/start-position';
import {
  backfillStatus,
  cancelBackfills,
  configuredTimings,
  moveAuditCursor,
  listStreams,
  requestBackfill,
  setPaused,
  startStream,
  stopStream,
  streamReport,
} from '../../streams/stream-control';
import { connectClient } from '../../temporal/client';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function run(
  command: Exclude<Command, { name: 'help' }>,
  client: Client,
  tenants: TenantConfig[],
): Promise<number> {
  if (command.name === 'list') return listCommand(client, command.opts.json);
  if (command.name === 'status' && command.opts.json) {
    const docs = [];
    for (const tenant of tenants) docs.push(await tenantStatus(client, tenant));
    // One document: the first tenant at top level (single-tenant scripts), every tenant under `tenants`.
    out(JSON.stringify({ ...docs[0], tenants: docs }, null, 2));
    return 0;
  }
  let code = 0;
  for (const tenant of tenants) code = Math.max(code, await runOne(command, client, tenant));
  return code;
}

async function tenantStatus(client: Client, tenant: TenantConfig) {
  const reports = await Promise.all(STREAMS.map((s) => streamReport(client, tenant.tenant, s)));
  // Progress of running audit backfills lives in their own workflows.
  for (const r of reports) {
    for (const b of r.status?.backfills ?? []) {
      if (b.state !== 'running' || !b.workflowId) continue;
      const child = await backfillStatus(client, b.workflowId);
      if (child) Object.assign(b, { shipped: child.counts.shipped, progress: child.cursor.since });
    }
  }
  return { tenant: tenant.tenant, streams: reports };
}

/** `list` spans every tenant in the namespace, so it needs no tenant configuration. */
async function listCommand(client: Client, json: boolean): Promise<number> {
  const rows = await listStreams(client);
  if (json) out(JSON.stringify(rows, null, 2));
  else for (const r of rows) out(`${r.tenant.padEnd(20)} ${r.stream.padEnd(28)} ${r.execution.padEnd(12)} ${r.type}`);
  return 0;
}

async function runOne(
  command: Exclude<Command, { name: 'help' | 'list' }>,
  client: Client,
  tenant: TenantConfig,
): Promise<number> {
  const temporal = loadTemporalConfig();
  switch (command.name) {
    case 'start': {
      const { since: given, streams: named } = command.opts;
      const since = startPosition(given, tenant.startDate);
      let code = 0;
      for (const name of named ?? tenant.streams) {
        const opts = {
          sinceGiven: given !== undefined,
          overrideCursor: command.opts['override-cursor'] === true,
          keepStopped: !named,
        };
        const r = await startStream(client, temporal, tenant, name, since, opts);
        for (const line of startLines(r, configuredTimings(tenant, name), opts.sinceGiven)) out(line);
        if (r.outcome === 'refused') code = 2;
        // A worker of an earlier version does not know the update: fail, so the deploy's Job tries again.
        else if (r.outcome === 'already_running' && 'error' in r.timings) code = Math.max(code, 1);
      }
      return code;
    }
    case 'status': {
      const { streams: reports } = await tenantStatus(client, tenant);
      out(formatStatusTable(tenant.tenant, reports));
      for (const line of await verifyStatusLines(client, tenant.tenant, tenant.streams)) out(line);
      return 0;
    }
    case 'pause':
    case 'resume': {
      const states = await setPaused(
        client,
        tenant.tenant,
        command.opts.streams ?? tenant.streams,
        command.name === 'pause',
      );
      for (const [name, state] of Object.entries(states)) out(`${tenant.tenant}/${name}: ${state}`);
      return Object.values(states).includes('not running') ? 1 : 0;
    }
    case 'backfill': {
      const window = backfillRequestSchema.safeParse({ from: command.opts.from, to: command.opts.to });
      if (!window.success) {
        process.stderr.write(`backfill: ${describeIssues(window.error)}\n`);
        return 2;
      }
      out("A backfill re-sends events on purpose: Datadog receives the window's logs again (they will appear twice).");
      for (const name of command.opts.streams ?? tenant.streams) {
        const r = await requestBackfill(client, tenant.tenant, name, command.opts.from, command.opts.to);
        out(
          `${tenant.tenant}/${name}: backfill ${r.id} started${r.workflowId ? ` as ${r.workflowId}` : ' (re-ships the current snapshot with the next sweep)'}`,
        );
        if (r.warning) out(`  warning: ${r.warning}`);
      }
      return 0;
    }
    case 'move-cursor': {
      const r = await moveAuditCursor(client, tenant.tenant, command.opts.to);
      const direction =
        r.to > r.from ? 'skipping every event before it (never shipped)' : 'shipping every event from there on again';
      out(`${tenant.tenant}/audit: cursor moves from ${r.from} to ${r.to} after the page in flight, ${direction}`);
      return 0;
    }
    case 'cancel-backfill': {
      for (const name of command.opts.streams ?? tenant.streams) {
        const ids = await cancelBackfills(client, tenant.tenant, name, command.opts.id);
        out(`${tenant.tenant}/${name}: ${ids.length ? `cancelled ${ids.join(', ')}` : 'no running backfill'}`);
      }
      return 0;
    }
    case 'reset-state':
      return resetStateCommand(client, tenant, command.opts, out);
    case 'verify':
      return verifyCommand(client, temporal, tenant.tenant, command.opts, out);
    case 'stop': {
      for (const name of command.opts.streams ?? tenant.streams) {
        const r = await stopStream(client, tenant.tenant, name, command.opts['no-wait'] ? 0 : 120_000);
        out(`${tenant.tenant}/${name}: ${r === 'not_running' ? 'not running' : r}`);
      }
      return 0;
    }
  }
}

async function main(): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${helpText(err.command)}\n`);
      return 2;
    }
    throw err;
  }
  if (command.name === 'help') {
    out(helpText(command.command));
    return 0;
  }
  let tenants: TenantConfig[];
  let temporal;
  try {
    temporal = loadTemporalConfig();
    if (command.name === 'list') tenants = [];
    else {
      tenants = loadTenantConfigs().map((t) => t.config);
      const wanted = command.opts.tenant;
      if (wanted && process.env.KANDJI_TENANTS_FILE) {
        tenants = tenants.filter((t) => t.tenant === wanted);
        if (tenants.length === 0) throw new ConfigError([`--tenant: "${wanted}" is not in KANDJI_TENANTS_FILE`]);
      } else if (wanted) tenants = tenants.map((t) => ({ ...t, tenant: wanted }));
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const client = await connectClient(temporal);
  try {
    if (command.name === 'list') return await run(command, client, []);
    return await run(command, client, tenants);
  } finally {
    await client.connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // An update refused by the workflow's validator carries the reason in its cause.
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
    process.exit(1);
  },
);

/** `npm run -s cli -- <command>`: operate the stream workflows. */
import type { Client } from '@temporalio/client';
import { ConfigError, loadStreamConfig, loadTemporalConfig, type StreamConfig } from '../config/env';
import { startPosition } from '../streams/start-position';
import { startStream, stopStream, streamReport } from '../streams/stream-control';
import { connectClient } from '../temporal/client';
import { STREAMS } from '../temporal/workflow-ids';
import { parseCommand, USAGE, UsageError, type Command } from './args';
import { formatStatusTable } from './format-status';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function run(command: Exclude<Command, { name: 'help' }>, client: Client, stream: StreamConfig): Promise<number> {
  const temporal = loadTemporalConfig();
  switch (command.name) {
    case 'start': {
      const since = startPosition(command.opts.since, stream.startDate);
      for (const name of command.opts.streams ?? stream.streams) {
        const r = await startStream(client, temporal, stream, name, since);
        if (r.outcome === 'already_running') out(`${r.workflowId}: already running; cursor unchanged${r.cursor ? ` (${r.cursor.since})` : ''}`);
        else if (r.resumedFromPreviousRun) out(`${r.workflowId}: started, resuming from the previous run's cursor ${r.cursor.since}`);
        else if (name === 'audit') out(`${r.workflowId}: started, reading events from ${r.cursor.since}`);
        else out(`${r.workflowId}: started; the first sweep ships every current ${name === 'detections' ? 'detection' : 'threat'}`);
      }
      return 0;
    }
    case 'status': {
      const reports = await Promise.all(STREAMS.map((s) => streamReport(client, stream.tenant, s)));
      if (command.opts.json) out(JSON.stringify({ tenant: stream.tenant, streams: reports }, null, 2));
      else out(formatStatusTable(stream.tenant, reports));
      return 0;
    }
    case 'stop': {
      for (const name of command.opts.streams ?? stream.streams) {
        const r = await stopStream(client, stream.tenant, name, command.opts['no-wait'] ? 0 : 120_000);
        out(`${stream.tenant}/${name}: ${r === 'not_running' ? 'not running' : r}`);
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
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (command.name === 'help') {
    out(USAGE);
    return 0;
  }
  let stream: StreamConfig;
  try {
    stream = loadStreamConfig();
    if (command.opts.tenant) stream = { ...stream, tenant: command.opts.tenant };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const client = await connectClient(loadTemporalConfig());
  try {
    return await run(command, client, stream);
  } finally {
    await client.connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

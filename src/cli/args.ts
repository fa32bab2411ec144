/** Command-line arguments of the CLI, parsed with node:util and validated with zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isoTime, tenantName } from '../config/edge-schemas';
import { STREAMS } from '../temporal/workflow-ids';

export class UsageError extends Error {}

export const USAGE = `kandji-datadog — forward Kandji (Iru) security logs to Datadog Logs

Usage: npm run -s cli -- <command> [options]

Commands:
  start [--streams LIST] [--since TIME]    start the tenant's stream workflows (idempotent: a running stream
                                           keeps its cursor; a stopped one resumes where it stopped)
  status [--json]                          state, cursor, lag, counts, backfills and last error of each stream
  stop [--streams LIST] [--no-wait]        stop gracefully: the batch in flight is shipped first
  pause [--streams LIST]                   stop calling Kandji and Datadog after the batch in flight; cursor kept
  resume [--streams LIST]                  continue where pause stopped
  backfill --from TIME --to TIME [--streams LIST]
                                           re-ship a past window (audit: exactly that window, by a child
                                           workflow, while the live tail runs; detections and threats: the
                                           current snapshot). Re-sends on purpose: Datadog gets those logs again
  move-cursor --to TIME                    move the audit stream's cursor on purpose, after the page in flight:
                                           later skips events (never shipped), earlier rewinds (shipped again)
  cancel-backfill [--id ID] [--streams LIST]
                                           cancel running backfills (all, or the one with this id)
  list                                     every stream workflow of every tenant in the namespace

Options:
  --streams LIST  comma-separated: audit, detections, threats (default: KANDJI_STREAMS, else audit,detections;
                  threats needs the token's threat-details permission)
  --tenant NAME   tenant to act on (default: KANDJI_TENANT, else the subdomain of KANDJI_API_URL)
  --since TIME    first event to read when a stream starts fresh. Default: KANDJI_START_DATE, else 17 hours ago.
  --from, --to    the backfill window, both inclusive.
                  All times are ISO-8601, e.g. 2026-01-31T08:00:00Z; a time without zone is read as UTC.
  -h, --help      this help

Configuration comes from the environment (see README): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
KANDJI_API_URL, KANDJI_TENANT, KANDJI_STREAMS, KANDJI_POLL_INTERVAL, KANDJI_START_DATE.
Exit codes: 0 success, 1 failure, 2 bad usage or configuration.`;

const streamList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(STREAMS as [string, ...string[]])).min(1))
  .transform((xs) => [...new Set(xs)] as (typeof STREAMS)[number][]);

const common = { tenant: tenantName.optional() };

const commands = {
  start: z.object({ ...common, streams: streamList.optional(), since: isoTime.optional() }),
  status: z.object({ ...common, json: z.boolean().default(false) }),
  stop: z.object({ ...common, streams: streamList.optional(), 'no-wait': z.boolean().default(false) }),
  pause: z.object({ ...common, streams: streamList.optional() }),
  resume: z.object({ ...common, streams: streamList.optional() }),
  backfill: z.object({ ...common, streams: streamList.optional(), from: isoTime, to: isoTime }),
  'cancel-backfill': z.object({ ...common, streams: streamList.optional(), id: z.string().min(1).optional() }),
  'move-cursor': z.object({ ...common, to: isoTime }),
  list: z.object({ json: z.boolean().default(false) }),
};

export type Command =
  | { name: 'help' }
  | { name: 'start'; opts: z.output<typeof commands.start> }
  | { name: 'status'; opts: z.output<typeof commands.status> }
  | { name: 'stop'; opts: z.output<typeof commands.stop> }
  | { name: 'pause'; opts: z.output<typeof commands.pause> }
  | { name: 'resume'; opts: z.output<typeof commands.resume> }
  | { name: 'backfill'; opts: z.output<typeof commands.backfill> }
  | { name: 'cancel-backfill'; opts: z.output<typeof commands['cancel-backfill']> }
  | { name: 'move-cursor'; opts: z.output<typeof commands['move-cursor']> }
  | { name: 'list'; opts: z.output<typeof commands.list> };

export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        streams: { type: 'string' },
        since: { type: 'string' },
        tenant: { type: 'string' },
        json: { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        id: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [name, ...rest] = parsed.positionals;
  if (parsed.values.help || !name || name === 'help') return { name: 'help' };
  if (rest.length) throw new UsageError(`unexpected argument: ${rest.join(' ')}`);
  if (!(name in commands)) throw new UsageError(`unknown command "${name}"; expected one of ${Object.keys(commands).join(', ')}`);
  const schema = commands[name as keyof typeof commands];
  const { help: _help, ...values } = parsed.values;
  const result = schema.strict().safeParse(values);
  if (!result.success) {
    const msgs = result.error.issues.map((i) => (i.path.length ? `--${String(i.path[0])}: ${i.message}` : i.message));
    throw new UsageError(`${name}: ${msgs.join('; ')}`);
  }
  return { name, opts: result.data } as Command;
}

/** What `--help` prints: the list of commands, and each command's own usage, options and examples. */
import { commandOptions, type CommandName } from './args';

const CLI = 'npm run -s cli --';
const WIDTH = 116;

/** One option (or argument) as help shows it: its label and what it does. */
type Option = [label: string, text: string];

const STREAMS_DEFAULT =
  "default: KANDJI_STREAMS, else audit,detections; threats and behavioral-detections need the token's permission for them";

const TENANT_DEFAULT =
  'tenant to act on (default: every tenant of KANDJI_TENANTS_FILE when set, else KANDJI_TENANT, else the subdomain of KANDJI_API_URL)';

const OPTION = {
  stream: [
    'STREAM...',
    `streams to act on: audit, detections, threats, behavioral-detections, space- or comma-separated (${STREAMS_DEFAULT})`,
  ],
  streams: [
    '--streams LIST',
    'the same as one comma-separated list. Name the streams as arguments or with --streams, not both',
  ],
  tenant: ['--tenant NAME', TENANT_DEFAULT],
  help: ['-h, --help', 'this help'],
} satisfies Record<string, Option>;

const TIMES =
  'Times are ISO-8601, e.g. 2026-01-31T08:00:00Z or 2026-01-31T10:00:00+02:00; a time without zone is read as UTC.';

interface CommandHelp {
  /** What follows the command's name in its usage line. */
  synopsis: string;
  /** One line (wrapped) in the list of commands. */
  summary: string;
  /** More, for the command's own help. */
  details?: string;
  /** Its own options: --tenant, --streams (and the stream arguments) and --help come with what the command accepts. */
  options: Option[];
  /** Arguments after the command's name, and what they do. */
  examples: [args: string, note?: string][];
}

const COMMANDS: Record<CommandName, CommandHelp> = {
  start: {
    synopsis: '[STREAM...] [--since TIME [--override-cursor]]',
    summary:
      "run the tenant's streams as configured: start stopped ones where they stopped, apply the configured timings to running ones",
    details:
      'Each stream runs as its own workflow, kandji-datadog/<tenant>/<stream>. A stopped stream resumes from the cursor ' +
      '(and late-event ledger) its last run recorded. With no STREAM named (as every deploy runs it), a stream an ' +
      'operator stopped (stop, a cancel or a terminate) stays stopped and is listed; name it to start it; one that ' +
      'failed or timed out is started. A running stream gets the configured timings (poll intervals, waits, attempts, ' +
      'late-sweep tiers); start prints what changed, or "unchanged". --since is where a stream that never ran starts; ' +
      'over a recorded cursor it is refused unless --override-cursor is given.',
    options: [
      [
        '--since TIME',
        'first event to read when the audit stream starts fresh (default: KANDJI_START_DATE, else 17 hours ago)',
      ],
      ['--override-cursor', 'with --since: start a stopped audit stream from TIME instead of its recorded cursor'],
    ],
    examples: [
      ['start', 'every configured stream an operator did not stop'],
      ['start audit detections', 'these streams, even if an operator stopped them'],
      ['start audit --since 2026-01-31T08:00:00Z', 'a fresh audit stream reading from that time'],
      ['start audit --since 2026-01-31T08:00:00Z --override-cursor', 'a stopped audit stream, from that time on'],
    ],
  },
  status: {
    synopsis: '[--json]',
    summary: 'state, cursor, lag, counts, backfills and last error of each stream',
    options: [['--json', 'one JSON document: the first tenant at top level, every tenant under "tenants"']],
    examples: [['status'], ['status --json']],
  },
  stop: {
    synopsis: '[STREAM...] [--no-wait]',
    summary: 'stop gracefully: the batch in flight is shipped first',
    details:
      'A stopped stream keeps its cursor and stays stopped through `start` with no stream named (deploys): `start STREAM` resumes it.',
    options: [['--no-wait', 'ask the streams to stop and return, instead of waiting up to 2 minutes for them to end']],
    examples: [['stop', 'every configured stream'], ['stop threats'], ['stop audit detections --no-wait']],
  },
  pause: {
    synopsis: '[STREAM...]',
    summary: 'stop calling Kandji and Datadog after the batch in flight; the cursor is kept',
    details:
      'The workflow keeps running and makes no Kandji or Datadog call until resume. Exit code 1 when one of the streams is not running.',
    options: [],
    examples: [['pause', 'every configured stream'], ['pause audit'], ['pause audit detections --tenant acme']],
  },
  resume: {
    synopsis: '[STREAM...]',
    summary: 'continue where pause stopped',
    details: 'Exit code 1 when one of the streams is not running.',
    options: [],
    examples: [['resume', 'every configured stream'], ['resume detections']],
  },
  backfill: {
    synopsis: '[STREAM...] --from TIME --to TIME',
    summary:
      're-ship a past window (audit: exactly that window, by a child workflow, while the live tail runs; detections, threats and behavioral-detections: the current snapshot, for behavioral detections the current window). Re-sends on purpose: Datadog gets those logs again',
    details:
      'For audit, a child workflow (kandji-datadog/<tenant>/audit/bf-...) reads exactly [from, to] with its own cursor; its progress shows in status. Detections, threats and behavioral detections are current-state lists with no past: their next sweep re-ships the whole current snapshot (behavioral detections: of their window of days). At most 3 backfills run at once per stream.',
    options: [['--from TIME, --to TIME', 'the window, both inclusive; from must be before to (required)']],
    examples: [
      ['backfill audit --from 2026-01-31T06:00:00Z --to 2026-01-31T08:00:00Z'],
      ['backfill detections threats --from 2026-01-31T06:00:00Z --to 2026-01-31T08:00:00Z'],
    ],
  },
  verify: {
    synopsis: '[STREAM...] --from TIME --to TIME',
    summary:
      'prove it: compare, per closed hour, what Kandji holds with what Datadog indexed; ship lost events (rows) again once; a table per hour and stream',
    details:
      'Runs kandji-datadog/<tenant>/<stream>/verify on the worker for each stream named (default: audit) and waits ' +
      'for it. The worker needs DD_APP_KEY (an application key with logs_read_data, and logs_read_config for quota ' +
      'and exclusion filters); without it verification is off (exit code 2). ' +
      "Hours closed less than 15 minutes ago wait. Audit: per hour, Kandji's events against Datadog's count, " +
      'listed id by id only where the counts differ. Detections, threats and behavioral-detections: the current ' +
      "rows whose own time is in the window, found by identity among the stream's Datadog logs since --from (a " +
      'restamped row is dated when it was shipped): one Search request per 1,000 logs; rows without a time of their ' +
      'own are counted, not verified. Missing events are explained: quota, excluded, stale (past ' +
      "Datadog's 18-hour window: unrecoverable), lost (shipped again, once, and the hour verified again; a row the " +
      'stream has not swept yet leaves its hour inconclusive). ' +
      'Exit code 1 when lost events remain (an unexplained gap), 3 when an hour could not be verified (Datadog ' +
      'answered in part, or rate-limited): try again later; the worst of the streams.',
    options: [['--from TIME, --to TIME', 'the window: every hour starting in [from, to), at most 168 (required)']],
    examples: [
      ['verify audit --from 2026-01-31T06:00:00Z --to 2026-01-31T12:00:00Z'],
      ['verify detections threats --from 2026-01-30T00:00:00Z --to 2026-01-31T00:00:00Z'],
    ],
  },
  'move-cursor': {
    synopsis: '--to TIME',
    summary:
      "move the audit stream's cursor on purpose, after the page in flight: later skips events (never shipped), earlier rewinds (shipped again)",
    options: [['--to TIME', 'where the audit cursor moves to (required)']],
    examples: [['move-cursor --to 2026-01-31T08:00:00Z']],
  },
  'reset-state': {
    synopsis: '[STREAM...] --yes',
    summary:
      'detections, threats, behavioral-detections: forget what the sweeps saw; the next sweep (at once) ships every current row again. The way out of a missing state chunk',
    details:
      'Causes duplicates in Datadog on purpose: without --yes it only says how many rows each stream would ship again.',
    options: [['--yes', 'do it (without: announce the duplicates it would cause, and change nothing)']],
    examples: [['reset-state detections', 'announce'], ['reset-state detections --yes']],
  },
  'cancel-backfill': {
    synopsis: '[STREAM...] [--id ID]',
    summary: 'cancel running backfills (all, or the one with this id)',
    options: [
      ['--id ID', 'the backfill to cancel, as status shows it (default: every running backfill of the streams)'],
    ],
    examples: [['cancel-backfill', 'every running backfill'], ['cancel-backfill audit --id bf-1a2b3c4d']],
  },
  list: {
    synopsis: '[--json]',
    summary: 'every stream workflow of every tenant in the namespace (needs no tenant configuration)',
    options: [['--json', 'as one JSON array']],
    examples: [['list'], ['list --json']],
  },
};

/** `text` in lines of at most `width` characters (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Two columns: each label, then its text wrapped beside it (below it when the label is too long). */
function table(rows: Option[], labelWidth: number): string {
  const textWidth = WIDTH - labelWidth - 4;
  return rows
    .flatMap(([label, text]) => {
      const lines = wrap(text, textWidth);
      const fits = label.length <= labelWidth;
      const head = fits ? [`  ${label.padEnd(labelWidth)}  ${lines.shift() ?? ''}`.trimEnd()] : [`  ${label}`];
      return [...head, ...lines.map((l) => `${' '.repeat(labelWidth + 4)}${l}`)];
    })
    .join('\n');
}

/** The top-level help: every command, in one line or a few each. */
export const USAGE = `kandji-datadog — forward Kandji (Iru) security logs to Datadog Logs

Usage: ${CLI} <command> [STREAM...] [options]
       ${CLI} <command> --help        that command's options and examples (also: help <command>)

Commands:
${table(
  Object.entries(COMMANDS).map(([name, c]): Option => [`${name} ${c.synopsis}`, c.summary]),
  36,
)}

${[
  `Streams are named as arguments (pause audit detections) or with --streams audit,detections, not both; ${STREAMS_DEFAULT}.`,
  `Every command but list takes --tenant NAME: ${TENANT_DEFAULT}.`,
  TIMES,
]
  .flatMap((paragraph) => wrap(paragraph, WIDTH))
  .join('\n')}

Configuration comes from the environment (see docs/operations.md): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
KANDJI_API_URL, KANDJI_TENANT, KANDJI_STREAMS, KANDJI_POLL_INTERVAL, KANDJI_START_DATE.
Exit codes: 0 success, 1 failure, 2 bad usage or configuration.`;

/** Example command lines, their notes in a column where the lines are short enough. */
function examples(rows: CommandHelp['examples']): string {
  const lines = rows.map(([args, note]) => [`  ${CLI} ${args}`, note] as const);
  const column = Math.max(...lines.map(([line]) => (line.length <= 64 ? line.length : 0))) + 2;
  return lines.map(([line, note]) => (note ? `${line.padEnd(column)}  # ${note}` : line)).join('\n');
}

/** The help of one command, or the top-level help. */
export function helpText(name?: CommandName): string {
  if (!name) return USAGE;
  const c = COMMANDS[name];
  const accepted = commandOptions(name);
  const takesStreams = accepted.includes('streams');
  const takesTimes = ['since', 'from', 'to'].some((o) => accepted.includes(o));
  const tenant = accepted.includes('tenant') ? [OPTION.tenant] : [];
  const options: Option[] = [...(takesStreams ? [OPTION.streams] : []), ...c.options, ...tenant, OPTION.help];
  const sections = [
    `Usage: ${CLI} ${name} ${c.synopsis}${tenant.length ? ' [--tenant NAME]' : ''}`,
    wrap(`${c.summary.replace(/^./, (ch) => ch.toUpperCase())}.${c.details ? ` ${c.details}` : ''}`, WIDTH).join('\n'),
    ...(takesStreams ? [`Arguments:\n${table([OPTION.stream], 22)}`] : []),
    `Options:\n${table(options, 22)}`,
    ...(takesTimes ? [wrap(TIMES, WIDTH).join('\n')] : []),
    `Examples:\n${examples(c.examples)}`,
  ];
  return sections.join('\n\n');
}

/**
 * Command-line arguments of the CLI, parsed with node:util and validated with zod.
 *
 * A command that acts on streams takes their names as arguments (`pause audit detections`, also comma-separated) or
 * as `--streams audit,detections`; one or the other, not both: a command given both is refused rather than guessing
 * whether the two lists add up or one overrides the other.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { STREAMS, type StreamName } from '../../../workflows/shared/stream-status';
import { isoTime, tenantName } from '../../config/edge-schemas';

export class UsageError extends Error {
  /** The command the error is about, when known: its help is the one to show. */
  constructor(
    message: string,
    readonly command?: CommandName,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Stream names, comma-separated: known ones only, de-duplicated in the order given. */
const streamList = z.string().transform((text, ctx) => {
  const names = text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(STREAMS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length) {
    const what = unknown.length
      ? `unknown stream${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}`
      : 'no stream named';
    ctx.addIssue({ code: 'custom', message: `${what}; expected ${STREAMS.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(names)] as StreamName[];
});

const common = { tenant: tenantName.optional() };

const commands = {
  start: z
    .object({
      ...common,
      streams: streamList.optional(),
      since: isoTime.optional(),
      'override-cursor': z.boolean().optional(),
    })
    .refine((o) => !o['override-cursor'] || o.since !== undefined, {
      message: '--override-cursor replaces a recorded cursor with --since: give --since too',
    }),
  status: z.object({ ...common, json: z.boolean().default(false) }),
  stop: z.object({ ...common, streams: streamList.optional(), 'no-wait': z.boolean().default(false) }),
  pause: z.object({ ...common, streams: streamList.optional() }),
  resume: z.object({ ...common, streams: streamList.optional() }),
  backfill: z.object({ ...common, streams: streamList.optional(), from: isoTime, to: isoTime }),
  'cancel-backfill': z.object({ ...common, streams: streamList.optional(), id: z.string().min(1).optional() }),
  'move-cursor': z.object({ ...common, to: isoTime }),
  'reset-state': z.object({ ...common, streams: streamList.optional(), yes: z.boolean().default(false) }),
  list: z.object({ json: z.boolean().default(false) }),
  verify: z.object({ ...common, streams: streamList.optional(), from: isoTime, to: isoTime }),
};

export type CommandName = keyof typeof commands;

export const COMMAND_NAMES = Object.keys(commands) as CommandName[];

/** The options a command accepts (`streams` also stands for the stream arguments). */
export function commandOptions(name: CommandName): string[] {
  return Object.keys(commands[name].shape);
}

export type Command =
  | { name: 'help'; command?: CommandName }
  | { name: 'start'; opts: z.output<typeof commands.start> }
  | { name: 'status'; opts: z.output<typeof commands.status> }
  | { name: 'stop'; opts: z.output<typeof commands.stop> }
  | { name: 'pause'; opts: z.output<typeof commands.pause> }
  | { name: 'resume'; opts: z.output<typeof commands.resume> }
  | { name: 'backfill'; opts: z.output<typeof commands.backfill> }
  | { name: 'cancel-backfill'; opts: z.output<(typeof commands)['cancel-backfill']> }
  | { name: 'move-cursor'; opts: z.output<(typeof commands)['move-cursor']> }
  | { name: 'reset-state'; opts: z.output<(typeof commands)['reset-state']> }
  | { name: 'list'; opts: z.output<typeof commands.list> }
  | { name: 'verify'; opts: z.output<typeof commands.verify> };

const OPTIONS = {
  streams: { type: 'string' },
  since: { type: 'string' },
  tenant: { type: 'string' },
  json: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  'override-cursor': { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  id: { type: 'string' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.prototype.hasOwnProperty.call(commands, name);
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command "${name}"; expected one of ${COMMAND_NAMES.join(', ')}`);
}

export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    // Which command it was about, to show its help: read again without refusing anything.
    const name = parseArgs({ args: argv, allowPositionals: true, strict: false, options: OPTIONS }).positionals[0];
    const message = (err as Error).message;
    throw isCommand(name)
      ? new UsageError(`${name}: ${message}`, name, { cause: err })
      : new UsageError(message, undefined, { cause: err });
  }
  const [name, ...rest] = parsed.positionals;
  if (name === 'help' || (!name && parsed.values.help)) {
    const [about, ...more] = name === 'help' ? rest : [];
    if (about === undefined) return { name: 'help' };
    if (!isCommand(about)) throw unknownCommand(about);
    if (more.length) throw new UsageError(`help: unexpected argument: ${more.join(' ')}`, about);
    return { name: 'help', command: about };
  }
  if (!name) return { name: 'help' };
  if (!isCommand(name)) throw unknownCommand(name);
  if (parsed.values.help) return { name: 'help', command: name };

  const schema = commands[name];
  const { help: _help, ...values } = parsed.values;
  const namedAsArguments = rest.length > 0;
  if (namedAsArguments) {
    if (!('streams' in schema.shape)) throw new UsageError(`${name}: unexpected argument: ${rest.join(' ')}`, name);
    if (values.streams !== undefined) {
      const all = [...rest, ...values.streams.split(',')].map((x) => x.trim()).filter(Boolean);
      throw new UsageError(
        `${name}: name the streams either as arguments or with --streams, not both (e.g. ${name} ${all.join(' ')})`,
        name,
      );
    }
    values.streams = rest.join(',');
  }
  const result = schema.strict().safeParse(values);
  if (!result.success) {
    const msgs = result.error.issues.map((i) => {
      const option = i.path.length ? String(i.path[0]) : undefined;
      return option && !(option === 'streams' && namedAsArguments) ? `--${option}: ${i.message}` : i.message;
    });
    throw new UsageError(`${name}: ${msgs.join('; ')}`, name);
  }
  return { name, opts: result.data } as Command;
}

/** CLI argument parsing, and the help it prints. */
import { COMMAND_NAMES, UsageError, commandOptions, parseCommand } from '../../src/processes/cli/args';
import { USAGE, helpText } from '../../src/processes/cli/help';

function usageError(argv: string[]): UsageError {
  try {
    parseCommand(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}`);
}

describe('parseCommand', () => {
  describe('help', () => {
    it.each([[[]], [['help']], [['--help']], [['-h']], [['help', '--help']], [['--tenant', 'acme', '-h']]])(
      '%j → the list of commands',
      (argv) => {
        expect(parseCommand(argv)).toEqual({ name: 'help' });
      },
    );

    it.each([
      [['start', '--help'], 'start'],
      [['status', '-h'], 'status'],
      [['help', 'pause'], 'pause'],
      [['--help', 'backfill'], 'backfill'],
      [['pause', 'audit', '--help'], 'pause'],
      [['backfill', '--streams', 'nope', '--help'], 'backfill'],
      [['help', 'move-cursor'], 'move-cursor'],
    ])('%j → the help of %s', (argv, command) => {
      expect(parseCommand(argv)).toEqual({ name: 'help', command });
    });

    it.each([[['bogus', '--help']], [['help', 'bogus']]])(
      '%j refuses the unknown command, naming the valid ones',
      (argv) => {
        const e = usageError(argv);
        expect(e.message).toBe(
          'unknown command "bogus"; expected one of start, status, stop, pause, resume, backfill, cancel-backfill, move-cursor, reset-state, list, verify',
        );
        expect(e.command).toBeUndefined();
      },
    );

    it('refuses more than one command to help with', () => {
      expect(usageError(['help', 'pause', 'audit']).message).toBe('help: unexpected argument: audit');
    });

    it('lists every command, and how to get its own help', () => {
      for (const word of ['start', 'status', 'stop', '--streams', '--since', '--json', '--no-wait', '--tenant'])
        expect(USAGE).toContain(word);
      for (const name of COMMAND_NAMES) expect(USAGE).toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(USAGE).toContain('<command> --help');
      expect(USAGE).toContain('pause audit detections');
      expect(helpText()).toBe(USAGE);
    });

    it.each(COMMAND_NAMES)('%s has its own usage, options and examples', (name) => {
      const text = helpText(name);
      expect(text).toMatch(new RegExp(`^Usage: npm run -s cli -- ${name} `));
      expect(text).toContain('\nOptions:\n');
      expect(text).toContain('-h, --help');
      for (const option of commandOptions(name)) expect(text).toContain(`--${option}`);
      if (commandOptions(name).includes('streams')) expect(text).toContain('\nArguments:\n  STREAM...');
      else expect(text).not.toContain('STREAM');
      const examples = text
        .slice(text.indexOf('\nExamples:\n'))
        .split('\n')
        .filter((l) => l.startsWith('  npm run -s cli -- '));
      expect(examples.length).toBeGreaterThan(0);
      // Every example parses as the command it illustrates.
      for (const line of examples) {
        const argv = line.replace(/#.*$/, '').trim().split(/\s+/).slice(5);
        expect(parseCommand(argv).name).toBe(name);
      }
    });

    it('shows a stream-taking command with stream names as arguments in its examples', () => {
      expect(helpText('pause')).toContain('npm run -s cli -- pause audit');
      expect(helpText('resume')).toContain('npm run -s cli -- resume detections');
      expect(helpText('backfill')).toContain('npm run -s cli -- backfill audit --from');
    });

    it('attaches the command to its usage errors, so that its own help is shown', () => {
      expect(usageError(['pause', 'devices']).command).toBe('pause');
      expect(usageError(['pause', '--stream', 'audit']).command).toBe('pause');
      expect(usageError(['pause', '--stream', 'audit']).message).toMatch(/^pause: .*--stream/);
      expect(usageError(['--bogus']).command).toBeUndefined();
    });
  });

  describe('stream names as arguments', () => {
    it.each([
      [['pause', 'audit'], { name: 'pause', opts: { streams: ['audit'] } }],
      [['resume', 'detections'], { name: 'resume', opts: { streams: ['detections'] } }],
      [['start', 'audit', 'detections'], { name: 'start', opts: { streams: ['audit', 'detections'] } }],
      [
        ['start', 'threats', '--since', '2026-01-31'],
        { name: 'start', opts: { streams: ['threats'], since: '2026-01-31' } },
      ],
      [['stop', 'threats', '--no-wait'], { name: 'stop', opts: { streams: ['threats'], 'no-wait': true } }],
      [['start', 'behavioral-detections'], { name: 'start', opts: { streams: ['behavioral-detections'] } }],
      [
        ['reset-state', 'threats,behavioral-detections', '--yes'],
        { name: 'reset-state', opts: { streams: ['threats', 'behavioral-detections'], yes: true } },
      ],
      [
        ['cancel-backfill', 'audit', '--id', 'bf-1'],
        { name: 'cancel-backfill', opts: { streams: ['audit'], id: 'bf-1' } },
      ],
      [
        ['backfill', 'audit', '--from', '2026-01-31T06:00:00Z', '--to', '2026-01-31T08:00:00Z'],
        { name: 'backfill', opts: { streams: ['audit'], from: '2026-01-31T06:00:00Z', to: '2026-01-31T08:00:00Z' } },
      ],
      [
        ['--from', '2026-01-31T06:00:00Z', 'backfill', '--to', '2026-01-31T08:00:00Z', 'detections', 'threats'],
        {
          name: 'backfill',
          opts: { streams: ['detections', 'threats'], from: '2026-01-31T06:00:00Z', to: '2026-01-31T08:00:00Z' },
        },
      ],
      [['pause', 'audit,detections'], { name: 'pause', opts: { streams: ['audit', 'detections'] } }],
      [['pause', 'threats', 'audit', 'threats'], { name: 'pause', opts: { streams: ['threats', 'audit'] } }],
      [['pause', '--tenant', 'acme', 'audit'], { name: 'pause', opts: { tenant: 'acme', streams: ['audit'] } }],
    ])('%j', (argv, command) => {
      expect(parseCommand(argv)).toEqual(command);
    });

    it('gives the same result as --streams', () => {
      for (const name of COMMAND_NAMES.filter((n) => commandOptions(n).includes('streams'))) {
        const times = ['backfill', 'verify'].includes(name) ? ['--from', '2026-01-31', '--to', '2026-02-01'] : [];
        expect(parseCommand([name, 'detections', 'audit', ...times])).toEqual(
          parseCommand([name, '--streams', 'detections,audit', ...times]),
        );
      }
    });

    it('refuses an unknown stream, naming it', () => {
      expect(usageError(['pause', 'devices']).message).toBe(
        'pause: unknown stream "devices"; expected audit, detections, threats, behavioral-detections',
      );
      expect(usageError(['start', 'audit', 'Audit', 'all']).message).toBe(
        'start: unknown streams "Audit", "all"; expected audit, detections, threats, behavioral-detections',
      );
      expect(usageError(['start', '--streams', 'audit,devices']).message).toBe(
        'start: --streams: unknown stream "devices"; expected audit, detections, threats, behavioral-detections',
      );
      expect(usageError(['stop', ',']).message).toBe(
        'stop: no stream named; expected audit, detections, threats, behavioral-detections',
      );
    });

    it('refuses stream names given both ways, showing the one-way form', () => {
      expect(usageError(['pause', 'audit', '--streams', 'detections']).message).toBe(
        'pause: name the streams either as arguments or with --streams, not both (e.g. pause audit detections)',
      );
      expect(
        usageError(['backfill', 'audit', '--streams', 'audit', '--from', '2026-01-31', '--to', '2026-02-01']).message,
      ).toMatch(/^backfill: .*not both/);
    });

    it('refuses arguments to a command that takes no streams', () => {
      expect(usageError(['status', 'audit']).message).toBe('status: unexpected argument: audit');
      expect(usageError(['move-cursor', 'audit', '--to', '2026-01-31']).message).toBe(
        'move-cursor: unexpected argument: audit',
      );
      expect(usageError(['list', 'audit']).message).toBe('list: unexpected argument: audit');
    });
  });

  describe('start', () => {
    it('defaults to the configured streams (none named here) and no since', () => {
      expect(parseCommand(['start'])).toEqual({ name: 'start', opts: {} });
      const c = parseCommand(['start']);
      expect(c.name === 'start' && c.opts.since).toBeUndefined();
      expect(c.name === 'start' && c.opts.tenant).toBeUndefined();
    });

    it('takes --streams, de-duplicated and trimmed', () => {
      expect(parseCommand(['start', '--streams', 'audit'])).toEqual({ name: 'start', opts: { streams: ['audit'] } });
      expect(parseCommand(['start', '--streams', ' audit , audit,'])).toEqual({
        name: 'start',
        opts: { streams: ['audit'] },
      });
      expect(parseCommand(['start', '--streams=audit'])).toEqual({ name: 'start', opts: { streams: ['audit'] } });
      expect(parseCommand(['start', '--streams', 'threats,audit,detections'])).toEqual({
        name: 'start',
        opts: { streams: ['threats', 'audit', 'detections'] },
      });
    });

    it.each([['devices'], ['audit,devices'], [''], [','], ['AUDIT']])('rejects --streams %p', (streams) => {
      const e = usageError(['start', '--streams', streams]);
      expect(e.message).toMatch(/^start: --streams/);
    });

    it.each([
      '2026-01-31T08:00:00Z',
      '2026-01-31T08:00:00+02:00',
      '2026-01-31T08:00:00',
      '2026-01-31',
      '2026-01-31T08:00:00.123456Z',
    ])('accepts --since %s as given', (since) => {
      expect(parseCommand(['start', '--since', since])).toEqual({ name: 'start', opts: { since } });
    });

    it.each(['yesterday', '17h', '2026-02-30', '2026-13-01T00:00:00Z', '31/01/2026', ''])(
      'rejects --since %p',
      (since) => {
        const e = usageError(['start', '--since', since]);
        expect(e.message).toMatch(/^start: --since: expected an ISO-8601 time/);
      },
    );

    it('takes --tenant and validates it', () => {
      expect(parseCommand(['start', '--tenant', 'acme-2'])).toEqual({ name: 'start', opts: { tenant: 'acme-2' } });
      expect(usageError(['start', '--tenant', 'Acme']).message).toMatch(/--tenant/);
    });

    it('rejects options of other commands', () => {
      expect(usageError(['start', '--json']).message).toMatch(/^start: .*json/);
      expect(usageError(['start', '--no-wait']).message).toMatch(/^start: .*no-wait/);
    });

    it('rejects a --since without value', () => {
      usageError(['start', '--since']);
    });

    it('takes --override-cursor only with --since (it replaces a recorded cursor with that time)', () => {
      expect(parseCommand(['start', 'audit', '--since', '2026-01-31', '--override-cursor'])).toEqual({
        name: 'start',
        opts: { streams: ['audit'], since: '2026-01-31', 'override-cursor': true },
      });
      expect(usageError(['start', 'audit', '--override-cursor']).message).toBe(
        'start: --override-cursor replaces a recorded cursor with --since: give --since too',
      );
      expect(usageError(['stop', '--override-cursor']).message).toMatch(/^stop: .*override-cursor/);
    });
  });

  describe('status', () => {
    it('defaults json to false', () => {
      expect(parseCommand(['status'])).toEqual({ name: 'status', opts: { json: false } });
    });

    it('takes --json', () => {
      expect(parseCommand(['status', '--json'])).toEqual({ name: 'status', opts: { json: true } });
      expect(parseCommand(['--json', 'status'])).toEqual({ name: 'status', opts: { json: true } });
    });

    it('rejects --streams and --since', () => {
      expect(usageError(['status', '--streams', 'audit']).message).toMatch(/^status: .*streams/);
      expect(usageError(['status', '--since', '2026-01-31']).message).toMatch(/^status: .*since/);
    });

    it('rejects a value for the boolean --json', () => {
      usageError(['status', '--json=yes']);
    });
  });

  describe('reset-state', () => {
    it('announces unless --yes is given; takes snapshot streams as arguments', () => {
      expect(parseCommand(['reset-state', 'detections'])).toEqual({
        name: 'reset-state',
        opts: { streams: ['detections'], yes: false },
      });
      expect(parseCommand(['reset-state', '--yes'])).toEqual({ name: 'reset-state', opts: { yes: true } });
    });
  });

  describe('stop', () => {
    it('defaults to the configured streams, waiting', () => {
      expect(parseCommand(['stop'])).toEqual({ name: 'stop', opts: { 'no-wait': false } });
      expect(parseCommand(['stop', '--no-wait'])).toEqual({ name: 'stop', opts: { 'no-wait': true } });
    });

    it('rejects an unknown stream and --since', () => {
      usageError(['stop', '--streams', 'devices']);
      usageError(['stop', '--since', '2026-01-31']);
    });
  });

  it('rejects an unknown command, naming the valid ones', () => {
    const e = usageError(['restart']);
    expect(e.message).toContain('"restart"');
    for (const c of ['start', 'status', 'stop']) expect(e.message).toContain(c);
  });

  it('rejects an unknown flag', () => {
    expect(usageError(['start', '--force']).message).toContain('--force');
    usageError(['status', '-x']);
  });

  it('rejects extra positional arguments of a command that takes no streams', () => {
    expect(usageError(['status', 'a', 'b']).message).toBe('status: unexpected argument: a b');
  });
});

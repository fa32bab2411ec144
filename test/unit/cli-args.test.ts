/** CLI argument parsing. */
import { USAGE, UsageError, parseCommand } from '../../src/cli/args';

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
    it.each([[[]], [['help']], [['--help']], [['-h']], [['start', '--help']], [['status', '-h']], [['bogus', '--help']]])('%j → help', (argv) => {
      expect(parseCommand(argv)).toEqual({ name: 'help' });
    });

    it('documents the commands', () => {
      for (const word of ['start', 'status', 'stop', '--streams', '--since', '--json', '--no-wait', '--tenant']) expect(USAGE).toContain(word);
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
      expect(parseCommand(['start', '--streams', ' audit , audit,'])).toEqual({ name: 'start', opts: { streams: ['audit'] } });
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

    it.each(['2026-01-31T08:00:00Z', '2026-01-31T08:00:00+02:00', '2026-01-31T08:00:00', '2026-01-31', '2026-01-31T08:00:00.123456Z'])(
      'accepts --since %s as given',
      (since) => {
        expect(parseCommand(['start', '--since', since])).toEqual({ name: 'start', opts: { since } });
      },
    );

    it.each(['yesterday', '17h', '2026-02-30', '2026-13-01T00:00:00Z', '31/01/2026', ''])('rejects --since %p', (since) => {
      const e = usageError(['start', '--since', since]);
      expect(e.message).toMatch(/^start: --since: expected an ISO-8601 time/);
    });

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

  it('rejects extra positional arguments', () => {
    expect(usageError(['start', 'audit']).message).toBe('unexpected argument: audit');
    expect(usageError(['status', 'a', 'b']).message).toBe('unexpected argument: a b');
  });
});

/** The schemas shared by the environment, the tenants file and the CLI. */
import { durationMs, isIsoTime, isoTime, tenantName } from '../../src/config/edge-schemas';

function messages(result: { success: boolean; error?: { issues: { message: string }[] } }): string[] {
  return result.success ? [] : (result.error?.issues ?? []).map((i) => i.message);
}

describe('tenantName', () => {
  it.each(['acme', 'acme-2', '0', 'a'.repeat(63)])('accepts %p', (name) => {
    expect(tenantName.safeParse(name).success).toBe(true);
  });

  it.each(['Acme', '-acme', '', 'a'.repeat(64), 'acme_2', 'acme.io'])('refuses %p, saying what is expected', (name) => {
    expect(messages(tenantName.safeParse(name))).toEqual(['expected lower-case letters, digits and dashes, e.g. acme']);
  });
});

describe('isoTime', () => {
  it.each([
    '2026-01-31T08:00:00Z',
    '2026-01-31T08:00:00+02:00',
    '2026-01-31T08:00:00',
    '2026-01-31',
    '2026-01-31T08:00:00.123456Z',
  ])('accepts %s as given', (text) => {
    expect(isIsoTime(text)).toBe(true);
    expect(isoTime.parse(text)).toBe(text);
  });

  it.each(['yesterday', '17h', '2026-02-30', '2026-13-01T00:00:00Z', '31/01/2026', ''])('refuses %p', (text) => {
    expect(isIsoTime(text)).toBe(false);
    expect(messages(isoTime.safeParse(text))).toEqual([
      'expected an ISO-8601 time such as 2026-01-31T08:00:00Z (a time without zone is read as UTC)',
    ]);
  });
});

describe('durationMs', () => {
  it('reads units and combinations; a default is read like a given value', () => {
    expect(durationMs().parse('1h30m')).toBe(5_400_000);
    expect(durationMs().parse('0')).toBe(0);
    expect(durationMs().prefault('5m').parse(undefined)).toBe(300_000);
  });

  it('names the value it refuses, after the name it is given', () => {
    expect(messages(durationMs({ name: 'X' }).safeParse('60'))).toEqual([
      'X: "60" is not a duration; use a number with a unit, e.g. 30s, 5m, 1h, 1h30m',
    ]);
    expect(messages(durationMs().safeParse('soon'))).toEqual([
      '"soon" is not a duration; use a number with a unit, e.g. 30s, 5m, 1h, 1h30m',
    ]);
  });

  it('applies moreThanZero and atMost', () => {
    expect(messages(durationMs({ name: 'X', moreThanZero: true }).safeParse('0s'))).toEqual(['X: must be more than 0']);
    expect(durationMs({ atMost: '24h' }).parse('24h')).toBe(86_400_000);
    expect(messages(durationMs({ atMost: '24h' }).safeParse('24h1ms'))).toEqual(['must be at most 24h']);
  });

  it('gives only its own message when told to, never quoting the value', () => {
    const schema = durationMs({ moreThanZero: true, message: 'expected a duration' });
    for (const text of ['0', 'secret-token', '60'])
      expect(messages(schema.safeParse(text))).toEqual(['expected a duration']);
  });
});

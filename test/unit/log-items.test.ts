/** The Datadog log item built from one Kandji record. */
import { DD_SOURCE, RESERVED_KEYS, SERVICE_OF_STREAM, formatTags, toLogItem } from '../../src/datadog/log-items';

const record = {
  id: '6d6a4b39-6ad2-4a0c-9a0f-2f9f0c8f3e11',
  action: 'blueprint_updated',
  occurred_at: '2025-03-04T16:29:55.253454Z',
  actor_id: 'a1',
  actor_type: 'user',
  target_id: 'b2',
  target_type: 'blueprint',
  target_component: 'Blueprints',
  new_state: { name: 'Zürich Macs 😀', count: 3, flags: [true, false, null], nested: { deep: { x: 1.5 } } },
  old_state: null,
  message: 'a message of its own',
  status: 'info',
  empty: '',
  zero: 0,
};

const strip = (item: Record<string, unknown>) => {
  const copy = { ...item };
  for (const k of ['ddsource', 'service', 'ddtags', 'hostname']) delete copy[k];
  return copy;
};

describe('toLogItem', () => {
  const ctx = { service: SERVICE_OF_STREAM.audit, ddtags: 'kandji_tenant:acme,forwarder_version:1.0.0' };

  it('keeps every record field unchanged at top level', () => {
    const before = JSON.parse(JSON.stringify(record)) as typeof record;
    const item = toLogItem(record, ctx);
    expect(strip(item)).toStrictEqual(record);
    expect(item.new_state).toBe(record.new_state); // not re-serialised
    expect(record).toStrictEqual(before); // input untouched
    expect(item).not.toBe(record);
  });

  it('adds ddsource kandji, the stream service and the tags', () => {
    const item = toLogItem(record, ctx);
    expect(DD_SOURCE).toBe('kandji');
    expect(SERVICE_OF_STREAM.audit).toBe('audit');
    expect(item.ddsource).toBe('kandji');
    expect(item.service).toBe('audit');
    expect(item.ddtags).toBe('kandji_tenant:acme,forwarder_version:1.0.0');
    expect(Object.keys(item).sort()).toEqual([...Object.keys(record), 'ddsource', 'service', 'ddtags'].sort());
  });

  it('sets hostname only when configured', () => {
    expect('hostname' in toLogItem(record, ctx)).toBe(false);
    expect('hostname' in toLogItem(record, { ...ctx, hostname: '' })).toBe(false);
    expect('hostname' in toLogItem(record, { ...ctx, hostname: undefined })).toBe(false);
    const item = toLogItem(record, { ...ctx, hostname: 'forwarder-1' });
    expect(item.hostname).toBe('forwarder-1');
    expect(strip(item)).toStrictEqual(record);
  });

  it('lets our reserved keys win over the record', () => {
    expect(RESERVED_KEYS).toEqual(['ddsource', 'service', 'ddtags', 'hostname']);
    const clash = { id: 'x', ddsource: 'evil', service: 'evil', ddtags: 'evil:1', hostname: 'evil' };
    const item = toLogItem(clash, { ...ctx, hostname: 'forwarder-1' });
    expect(item).toStrictEqual({
      id: 'x',
      ddsource: 'kandji',
      service: 'audit',
      ddtags: ctx.ddtags,
      hostname: 'forwarder-1',
    });
  });

  it('serialises to JSON with the record fields intact', () => {
    const parsed = JSON.parse(JSON.stringify(toLogItem(record, ctx))) as Record<string, unknown>;
    expect(strip(parsed)).toStrictEqual(record);
  });
});

describe('formatTags', () => {
  it('joins key:value pairs and extra tags with commas, in order', () => {
    expect(formatTags({ kandji_tenant: 'acme', forwarder_version: '0.1.0' })).toBe(
      'kandji_tenant:acme,forwarder_version:0.1.0',
    );
    expect(formatTags({ kandji_tenant: 'acme' }, ['team:secops', 'env:prod'])).toBe(
      'kandji_tenant:acme,team:secops,env:prod',
    );
  });

  it('replaces commas so one tag cannot become two', () => {
    expect(formatTags({ 'a,b': 'c,d' }, ['e,f'])).toBe('a_b:c_d,e_f');
    expect(formatTags({ k: 'v' }, ['x,y']).split(',')).toHaveLength(2);
  });

  it('trims and drops empty extra tags', () => {
    expect(formatTags({ k: ' v ' }, ['  ', '', ' team:x '])).toBe('k:v,team:x');
  });

  it('returns an empty string when there is nothing', () => {
    expect(formatTags({})).toBe('');
    expect(formatTags({}, [''])).toBe('');
  });
});

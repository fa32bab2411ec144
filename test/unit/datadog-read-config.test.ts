/** The optional application key of verify (DD_APP_KEY / DD_APP_KEY_FILE) and the API host of each DD_SITE. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadDatadogReadConfig } from '../../src/config/datadog-read';

test('without DD_APP_KEY verification is off, and the reason says which key is missing', () => {
  const c = loadDatadogReadConfig({ DD_API_KEY: 'k' });
  expect(c).toEqual({ on: false, reason: expect.stringMatching(/DD_APP_KEY.*logs_read_data/) });
  expect(loadDatadogReadConfig({ DD_APP_KEY: '' }).on).toBe(false);
});

test.each([
  ['datadoghq.com', 'https://api.datadoghq.com'],
  ['us3.datadoghq.com', 'https://api.us3.datadoghq.com'],
  ['us5.datadoghq.com', 'https://api.us5.datadoghq.com'],
  ['ap1.datadoghq.com', 'https://api.ap1.datadoghq.com'],
  ['datadoghq.eu', 'https://api.datadoghq.eu'],
  ['ddog-gov.com', 'https://api.ddog-gov.com'],
])('DD_SITE %s reads from %s', (site, url) => {
  const c = loadDatadogReadConfig({ DD_APP_KEY: 'app', DD_SITE: site });
  expect(c).toMatchObject({ on: true, apiUrl: url });
  if (c.on) expect(c.appKey()).toBe('app');
});

test('DD_API_URL overrides the site; plain http only on loopback', () => {
  expect(loadDatadogReadConfig({ DD_APP_KEY: 'a', DD_API_URL: 'http://127.0.0.1:9/x' })).toMatchObject({
    apiUrl: 'http://127.0.0.1:9',
  });
  expect(() => loadDatadogReadConfig({ DD_APP_KEY: 'a', DD_API_URL: 'http://example.com' })).toThrow(ConfigError);
});

test('DD_APP_KEY_FILE is read; a missing file, or one set with DD_APP_KEY, is refused', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'app-key-')), 'key');
  fs.writeFileSync(file, 'first\n');
  const c = loadDatadogReadConfig({ DD_APP_KEY_FILE: file });
  expect(c.on && c.appKey()).toBe('first');
  expect(() => loadDatadogReadConfig({ DD_APP_KEY_FILE: file, DD_APP_KEY: 'x' })).toThrow(/not both/);
  expect(() => loadDatadogReadConfig({ DD_APP_KEY_FILE: `${file}.missing` })).toThrow(/DD_APP_KEY_FILE/);
});

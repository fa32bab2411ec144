/**
 * What `verify` needs to read Datadog Logs back: an application key (DD_APP_KEY, or DD_APP_KEY_FILE re-read on
 * rotation) with the `logs_read_data` permission (and `logs_read_config` to read the indexes' quota and exclusion
 * filters), and the API host of DD_SITE (`https://api.<site>`), or DD_API_URL (a proxy, or a simulator on loopback).
 * Optional: without an application key verification is off and says so; nothing else changes.
 */
import { ConfigError } from './config-error';
import { isLoopbackHost, withoutEmptyValues } from './env';
import { secretFileReader } from './secret-file';
import { apiUrlForSite, isDatadogSite } from '../datadog/sites';

type Env = Record<string, string | undefined>;

export type DatadogReadConfig =
  | { on: true; apiUrl: string; /** The current key (secret: never log it). */ appKey: () => string }
  | { on: false; reason: string };

export const VERIFY_OFF_REASON = 'verification off: no DD_APP_KEY (an application key with logs_read_data)';

export function loadDatadogReadConfig(rawEnv: Env = process.env): DatadogReadConfig {
  const env = withoutEmptyValues(rawEnv);
  const { DD_APP_KEY: key, DD_APP_KEY_FILE: file } = env;
  if (key === undefined && file === undefined) return { on: false, reason: VERIFY_OFF_REASON };
  if (key !== undefined && file !== undefined)
    throw new ConfigError(['DD_APP_KEY_FILE: set either it or DD_APP_KEY, not both']);
  return { on: true, apiUrl: apiUrl(env), appKey: file === undefined ? () => key! : fileKey(file) };
}

function fileKey(file: string): () => string {
  const read = secretFileReader(file);
  const first = read();
  if ('problem' in first) throw new ConfigError([`DD_APP_KEY_FILE: ${first.problem}`]);
  return () => {
    const current = read();
    if ('problem' in current) throw new Error(`DD_APP_KEY_FILE: ${current.problem}`);
    return current.value;
  };
}

function apiUrl(env: Env): string {
  if (env.DD_API_URL !== undefined) {
    let u: URL;
    try {
      u = new URL(env.DD_API_URL);
    } catch {
      throw new ConfigError(['DD_API_URL: expected a URL such as https://api.datadoghq.com']);
    }
    if (!(u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname))))
      throw new ConfigError(['DD_API_URL: must be https (plain http is allowed only for loopback hosts)']);
    return u.origin;
  }
  const site = env.DD_SITE ?? 'datadoghq.com';
  if (!isDatadogSite(site)) throw new ConfigError([`DD_SITE: unknown site ${site}`]);
  return apiUrlForSite(site);
}

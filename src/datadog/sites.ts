/**
 * Datadog sites and their logs intake hosts: the v2 intake is `https://http-intake.logs.<site>/api/v2/logs` on every
 * site (US1 `datadoghq.com`, EU1 `datadoghq.eu`, US1-FED `ddog-gov.com`, …), as the endpoint table of
 * https://docs.datadoghq.com/api/latest/logs/#send-logs lists them.
 */
export const DATADOG_SITES = {
  'datadoghq.com': 'http-intake.logs.datadoghq.com', // US1
  'us3.datadoghq.com': 'http-intake.logs.us3.datadoghq.com',
  'us5.datadoghq.com': 'http-intake.logs.us5.datadoghq.com',
  'datadoghq.eu': 'http-intake.logs.datadoghq.eu', // EU1
  'ap1.datadoghq.com': 'http-intake.logs.ap1.datadoghq.com',
  'ap2.datadoghq.com': 'http-intake.logs.ap2.datadoghq.com',
  'uk1.datadoghq.com': 'http-intake.logs.uk1.datadoghq.com',
  'ddog-gov.com': 'http-intake.logs.ddog-gov.com', // US1-FED
  'us2.ddog-gov.com': 'http-intake.logs.us2.ddog-gov.com', // US2-FED
} as const;

export type DatadogSite = keyof typeof DATADOG_SITES;

export function isDatadogSite(site: string): site is DatadogSite {
  return Object.prototype.hasOwnProperty.call(DATADOG_SITES, site);
}

export function intakeUrlForSite(site: DatadogSite): string {
  return `https://${DATADOG_SITES[site]}/api/v2/logs`;
}

/**
 * The API host of a site, for the read APIs (Logs Search, Aggregate, index configuration): `api.<site>` on every
 * site (`api.datadoghq.com`, `api.us3.datadoghq.com`, `api.datadoghq.eu`, `api.ddog-gov.com`, …), as the endpoint
 * table of https://docs.datadoghq.com/api/latest/logs/#search-logs lists them.
 */
export function apiUrlForSite(site: DatadogSite): string {
  return `https://api.${site}`;
}

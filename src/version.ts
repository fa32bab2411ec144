/** The forwarder's version, sent as the `forwarder_version` tag and the User-Agent. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const FORWARDER_VERSION: string = (require('../package.json') as { version: string }).version;

/** The forwarder's version, sent as the `forwarder_version` tag and the User-Agent. */
// An import (not a require) so that `npm run build` copies package.json next to the compiled code (dist/).
import packageJson from '../package.json';

export const FORWARDER_VERSION: string = packageJson.version;

/**
 * The oldest release whose workflow runs this code still replays and continues (docs/versions.md): its recorded
 * histories and those of every later release stay in test/histories/; older ones, and the code only they needed,
 * are gone.
 */
export const OLDEST_SUPPORTED_VERSION = '0.3.0';

/** The forwarder's version, sent as the `forwarder_version` tag and the User-Agent. */
// An import (not a require) so that `npm run build` copies package.json next to the compiled code (dist/).
import packageJson from '../package.json';

export const FORWARDER_VERSION: string = packageJson.version;

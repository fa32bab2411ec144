import type { DevServer } from '../../src/temporal/dev-server';

declare global {
  var __TEMPORAL_DEV_SERVER__: DevServer | undefined;
}
export {};

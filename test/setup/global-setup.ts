/**
 * One real Temporal dev server for the whole test run. Its address reaches the test files through
 * TEMPORAL_TEST_ADDRESS. A low continue-as-new threshold makes every long test exercise continue-as-new.
 */
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';

declare global {
  var __TEMPORAL_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.TEMPORAL_TEST_ADDRESS) return; // an externally started server
  const server = await startDevServer({
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 120 },
  });
  globalThis.__TEMPORAL_DEV_SERVER__ = server;
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}

/**
 * `node dist/simulators/main.js` (`npm run simulators`): the Kandji and Datadog simulators of the demo as a
 * process of their own, for the compose stack's `simulators` profile. They listen on 127.0.0.1 only (the compose
 * services share the worker's network namespace), on KANDJI_SIMULATOR_PORT (8081) and DATADOG_SIMULATOR_PORT
 * (8082), and accept KANDJI_API_TOKEN and DD_API_KEY.
 */
import { startDemoWorld } from './demo-world';

function port(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > 65_535) {
    process.stderr.write(`${name}: expected a port number, got ${process.env[name]}\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const kandjiToken = process.env.KANDJI_API_TOKEN;
  const datadogApiKey = process.env.DD_API_KEY;
  if (!kandjiToken || !datadogApiKey) {
    process.stderr.write('KANDJI_API_TOKEN and DD_API_KEY: required (the token and key the simulators accept)\n');
    process.exit(2);
  }
  const world = await startDemoWorld({
    kandjiToken,
    datadogApiKey,
    kandjiPort: port('KANDJI_SIMULATOR_PORT', 8081),
    datadogPort: port('DATADOG_SIMULATOR_PORT', 8082),
  });
  process.stdout.write(`Kandji simulator ${world.kandji.url}, Datadog simulator ${world.datadog.intakeUrl}\n`);
  const report = setInterval(
    () => process.stdout.write(`Datadog simulator: ${world.datadog.received.length} logs received\n`),
    60_000,
  );
  const stop = () => {
    clearInterval(report);
    void world.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();

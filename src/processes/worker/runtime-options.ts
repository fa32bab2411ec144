/**
 * How the worker installs Temporal's Runtime: every line Temporal Core writes goes through the service's logger
 * (JSON, string levels, like every other line; Core's default is ANSI-coloured text on stderr), and the Prometheus
 * endpoint serves Temporal's worker metrics and ours with the `_total` suffix on counters, which the OpenMetrics
 * text format requires (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md#counter).
 */
import { DefaultLogger, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { forwardSdkLog } from '../../telemetry/logger';

export function workerRuntimeOptions(
  logger: Logger,
  opts: { logLevel: string; metricsAddress?: string },
): RuntimeOptions {
  const sdkLevel: LogLevel = opts.logLevel === 'debug' || opts.logLevel === 'trace' ? 'DEBUG' : 'INFO';
  return {
    logger: new DefaultLogger(sdkLevel, forwardSdkLog(logger)),
    telemetryOptions: {
      logging: { filter: { core: sdkLevel === 'DEBUG' ? 'DEBUG' : 'WARN', other: 'ERROR' }, forward: {} },
      ...(opts.metricsAddress
        ? { metrics: { prometheus: { bindAddress: opts.metricsAddress, countersTotalSuffix: true } } }
        : {}),
    },
  };
}

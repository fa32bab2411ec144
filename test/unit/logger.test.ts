/** The service's JSON log lines: errors are written whole (type, message, stack, causes), secrets never. */
import { ApplicationFailure } from '@temporalio/common';
import { toApplicationFailure } from '../../activities/failures';
import { networkError } from '../../src/remote-errors';
import { forwardSdkLog, SERVICE_NAME } from '../../src/telemetry/logger';
import { capturingLogger as capturing } from '../helpers/capture-logger';

describe('createLogger', () => {
  it('writes an error under `error` with its failure type, message, stack and cause chain', () => {
    const { logger, lines } = capturing();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    logger.warn({ error: toApplicationFailure(networkError('datadog', reset)), sdk: true }, 'Activity failed');
    const { error } = lines[0]!;
    expect(error.type).toBe('DatadogUnavailableError');
    expect(error.message).toBe('datadog request failed: ECONNRESET (socket hang up)');
    expect(error.stack).toMatch(/^ApplicationFailure: /);
    expect(error.cause.type).toBe('RemoteError');
    expect(error.cause.kind).toBe('unavailable');
    expect(error.cause.cause).toMatchObject({ message: 'socket hang up', code: 'ECONNRESET' });
  });

  it('does the same under `err`, and leaves a non-error `error` as it is', () => {
    const { logger, lines } = capturing();
    logger.error({ err: ApplicationFailure.create({ type: 'X', message: 'm', cause: new Error('below') }) }, 'e');
    logger.warn({ error: 'a plain string' }, 's');
    expect(lines[0]!.err).toMatchObject({ type: 'X', message: 'm', cause: { type: 'Error', message: 'below' } });
    expect(lines[1]!.error).toBe('a plain string');
  });

  it('still redacts secrets', () => {
    const { logger, lines } = capturing();
    logger.info({ token: 'tok-SECRET', headers: { authorization: 'Bearer SECRET' } }, 'x');
    expect(JSON.stringify(lines[0])).not.toContain('SECRET');
  });

  it('writes the level as a string Datadog maps to a status, and the service of the Agent annotation', () => {
    const { logger, lines } = capturing('trace');
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) logger[level]('x');
    expect(lines.map((l) => l.level)).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    expect(lines.every((l) => l.service === SERVICE_NAME)).toBe(true);
  });

  it('says whether a Temporal API key is set (`apiKey: true|false`), as the start-up line promises, never the key', () => {
    const { logger, lines } = capturing();
    logger.info({ temporal: { apiKey: true } }, 'worker started');
    logger.info({ temporal: { apiKey: false } }, 'worker started');
    logger.info({ temporal: { apiKey: 'key-SECRET' } }, 'oops');
    expect(lines.map((l) => l.temporal.apiKey)).toEqual([true, false, '[redacted]']);
  });
});

describe("the SDK's log lines", () => {
  it('go through the service logger, marked sdk, without the task token', () => {
    const { logger, lines } = capturing();
    forwardSdkLog(logger)({
      level: 'WARN',
      message: 'Activity failed',
      meta: { activityId: '7', taskToken: 'c2VjcmV0', attempt: 2 },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'Activity failed', activityId: '7', attempt: 2, sdk: true, level: 'warn' });
    expect(lines[0]).not.toHaveProperty('taskToken');
  });
});

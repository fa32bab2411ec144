/**
 * Which failure a stream shows while several of its steps run at once (the audit stream reads page N+1 while page N
 * ships): the most pressing one still failing, never one whose step has since succeeded.
 */
import { FailingSteps, isFailedState, type FailedState, type StepFailure } from '../../workflows/failing-steps';
import type { StreamState } from '../../workflows/shared/stream-status';

const failure = (state: FailedState, type: string): StepFailure => ({
  state,
  error: { type, message: type, during: 'ship', at: '2026-01-01T00:00:00.000Z' },
});

describe('FailingSteps', () => {
  it('shows nothing while no step is failing', () => {
    const steps = new FailingSteps();
    steps.open();
    expect(steps.shown()).toBeUndefined();
  });

  it('a step that succeeds beside a blocked one leaves the stream blocked', () => {
    const steps = new FailingSteps();
    const ship = steps.open();
    const readAhead = steps.open();
    steps.fail(ship, failure('blocked', 'DatadogRefusedAllError'));
    steps.clear(readAhead);
    expect(steps.shown()?.error.type).toBe('DatadogRefusedAllError');
    steps.clear(ship);
    expect(steps.shown()).toBeUndefined();
  });

  it('blocked outranks unavailable, which outranks retrying, whatever failed last', () => {
    const steps = new FailingSteps();
    const [a, b, c] = [steps.open(), steps.open(), steps.open()];
    steps.fail(a, failure('blocked', 'DatadogRefusedAllError'));
    steps.fail(b, failure('retrying', 'KandjiUnavailableError'));
    steps.fail(c, failure('unavailable', 'KandjiNotFoundError'));
    expect(steps.shown()?.state).toBe('blocked');
    steps.clear(a);
    expect(steps.shown()?.state).toBe('unavailable');
    steps.clear(c);
    expect(steps.shown()?.error.type).toBe('KandjiUnavailableError');
  });

  it('among equals, the latest failure shows, also when a step fails again', () => {
    const steps = new FailingSteps();
    const [a, b] = [steps.open(), steps.open()];
    steps.fail(a, failure('retrying', 'first'));
    steps.fail(b, failure('retrying', 'second'));
    expect(steps.shown()?.error.type).toBe('second');
    steps.fail(a, failure('retrying', 'third'));
    expect(steps.shown()?.error.type).toBe('third');
  });

  it('knows the failure states', () => {
    const failed: StreamState[] = ['blocked', 'unavailable', 'retrying'];
    const others: StreamState[] = ['starting', 'running', 'caught_up', 'paused', 'stopped'];
    expect(failed.every(isFailedState)).toBe(true);
    expect(others.some(isFailedState)).toBe(false);
  });
});

/** Signals and queries of the stream workflows, defined once for the workflow, the CLI and the tests. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StreamStatus } from './stream-status';

/** Current state, cursor, counts and last error of a stream. */
export const statusQuery = defineQuery<StreamStatus>('status');

/** Ends the stream gracefully: the batch in flight is shipped and its cursor recorded first. */
export const stopSignal = defineSignal<[]>('stop');

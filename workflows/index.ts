/** Every workflow type the worker registers. Only workflow functions may be exported from here. */
export { auditStream } from './audit-stream';
export { snapshotStream } from './snapshot-stream';
export { requestBudget } from './request-budget';
export { snapshotStateChunk } from './snapshot-state';
export { verifyStream } from './verify-stream';

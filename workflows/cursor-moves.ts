/**
 * Moving the audit stream's cursor on purpose, from the CLI (an update, refused with a reason when malformed) or
 * the Temporal UI (a signal with `{ "to": "<ISO>" }`, a malformed payload refused in status). The move is applied
 * by the stream between pages, so it never races a shipment; a page whose step fails (or waits for budget) is
 * abandoned for it at once (StreamRuntime.abandonStepsWhen), so a page that can never ship is a way out of. A move
 * not applied when the run continues as new is carried to the next run (`pendingMove`).
 */
import { log, setHandler } from '@temporalio/workflow';
import type { AuditCursor } from './shared/audit-cursor';
import {
  describeIssues,
  moveCursorSchema,
  moveCursorSignal,
  moveCursorUpdate,
  type CursorMoved,
  type MoveCursorRequest,
} from './shared/messages';
import { timestampKey } from './shared/timestamps';
import type { StreamRuntime } from './stream-runtime';

/** The cursor after a move to `to`: reads from `to` on at once; nothing before `to` is re-read by later windows. */
export function movedAuditCursor(cursor: AuditCursor, to: string): AuditCursor {
  const moved: AuditCursor = { since: to, page: null, more: true, digestFrom: to };
  if (cursor.from) moved.from = cursor.from < to ? cursor.from : to;
  if (cursor.until) moved.until = cursor.until;
  return moved;
}

export function installCursorMoves(
  runtime: StreamRuntime,
  current: () => AuditCursor,
  carried?: string,
): { nextMove(): string | undefined; pending(): boolean; peek(): string | undefined } {
  let pending: string | undefined = carried;
  const accept = (req: MoveCursorRequest): CursorMoved => {
    pending = timestampKey(req.to);
    log.info('cursor move requested', { from: current().since, to: pending });
    return { from: current().since, to: pending };
  };
  setHandler(moveCursorUpdate, accept, {
    validator: (req) => {
      const parsed = moveCursorSchema.safeParse(req);
      if (!parsed.success) throw new Error(describeIssues(parsed.error));
    },
  });
  setHandler(moveCursorSignal, (payload: unknown) => {
    const parsed = moveCursorSchema.safeParse(payload);
    if (!parsed.success)
      return runtime.rejectSignal('moveCursor', `${describeIssues(parsed.error)}; expected {"to": "<ISO>"}`);
    accept(parsed.data);
  });
  return {
    pending: () => pending !== undefined,
    peek: () => pending,
    nextMove: () => {
      const to = pending;
      pending = undefined;
      return to;
    },
  };
}

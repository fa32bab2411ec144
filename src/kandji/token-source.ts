/**
 * Where a tenant's Kandji token comes from, read when a request needs it. A token that is missing (variable
 * unset, file absent, unreadable or empty) fails only that tenant's activities, with a non-retryable
 * `KandjiTokenMissingError` naming the variable or file (never a value): its streams go `blocked` with the reason
 * while the worker serves every other tenant. A token file is re-read when it changes (size, mtime or inode,
 * checked at most every few seconds), so a rotated token is picked up without a restart.
 */
import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/shared/failure-types';

/** Returns the current token or throws a `KandjiTokenMissingError` ApplicationFailure. */
export type TokenProvider = () => string;

/** How often a token file is checked for changes at most. */
export const TOKEN_FILE_CHECK_MS = 5_000;

export function tokenMissing(tenant: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.KandjiTokenMissing,
    nonRetryable: true,
    message: `tenant "${tenant}": Kandji token missing: ${reason}`,
  });
}

/** A token from an environment variable. The environment of a running process does not change: fix and restart. */
export function envTokenProvider(
  tenant: string,
  variable: string,
  env: Record<string, string | undefined>,
): TokenProvider {
  return () => {
    const v = env[variable]?.trim();
    if (!v) throw tokenMissing(tenant, `environment variable ${variable} is not set (set it and restart the worker)`);
    return v;
  };
}

export interface FileTokenOptions {
  /** Check the file for changes at most this often (ms). Default TOKEN_FILE_CHECK_MS. */
  checkEveryMs?: number;
  now?: () => number;
}

/**
 * A token from a file (e.g. a mounted Kubernetes secret), re-read whenever its size, mtime or inode changes. A
 * missing or empty file is reported as missing; the next check after it is fixed recovers.
 */
export function fileTokenProvider(tenant: string, path: string, opts: FileTokenOptions = {}): TokenProvider {
  const checkEveryMs = opts.checkEveryMs ?? TOKEN_FILE_CHECK_MS;
  const now = opts.now ?? Date.now;
  let checkedAt = -Infinity;
  let signature = '';
  let current: { token: string } | { problem: string } = { problem: 'not read yet' };
  const check = () => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch (err) {
      signature = '';
      current = { problem: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
      return;
    }
    const sig = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (sig === signature) return;
    try {
      const token = fs.readFileSync(path, 'utf8').trim();
      current = token ? { token } : { problem: `${path} is empty` };
      signature = sig;
    } catch (err) {
      signature = '';
      current = { problem: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
    }
  };
  return () => {
    const t = now();
    if (t - checkedAt >= checkEveryMs) {
      checkedAt = t;
      check();
    }
    if ('token' in current) return current.token;
    throw tokenMissing(tenant, `${current.problem} (checked again every ${Math.round(checkEveryMs / 1000)} s)`);
  };
}

/**
 * Where a tenant's Kandji token comes from, read when a request needs it. A token that is missing (variable
 * unset, file absent, unreadable or empty) fails only that tenant's activities, with a non-retryable
 * `KandjiTokenMissingError` naming the variable or file (never a value): its streams go `blocked` with the reason
 * while the worker serves every other tenant. A token file is re-read when it changes (size, mtime or inode,
 * checked at most every few seconds), so a rotated token is picked up without a restart.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/shared/failure-types';
import { SECRET_FILE_CHECK_MS, secretFileReader, type SecretFileOptions } from '../config/secret-file';

/** Returns the current token or throws a `KandjiTokenMissingError` ApplicationFailure. */
export type TokenProvider = () => string;

/** How often a token file is checked for changes at most. */
export const TOKEN_FILE_CHECK_MS = SECRET_FILE_CHECK_MS;

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

export type FileTokenOptions = SecretFileOptions;

/**
 * A token from a file (e.g. a mounted Kubernetes secret), re-read whenever its size, mtime or inode changes. A
 * missing or empty file is reported as missing; the next check after it is fixed recovers.
 */
export function fileTokenProvider(tenant: string, path: string, opts: FileTokenOptions = {}): TokenProvider {
  const read = secretFileReader(path, opts);
  const everySeconds = Math.round((opts.checkEveryMs ?? SECRET_FILE_CHECK_MS) / 1000);
  return () => {
    const current = read();
    if ('value' in current) return current.value;
    throw tokenMissing(tenant, `${current.problem} (checked again every ${everySeconds} s)`);
  };
}

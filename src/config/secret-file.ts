/**
 * A secret kept in a file (a Compose `secrets:` entry, a mounted Kubernetes Secret), re-read whenever the file's
 * size, mtime or inode changes (checked at most every `checkEveryMs`), so a rotated secret is used without a
 * restart. A missing, unreadable or empty file is reported as a problem (naming the file, never a value); the next
 * check after it is fixed recovers.
 */
import fs from 'node:fs';

/** How often a secret file is checked for changes at most. */
export const SECRET_FILE_CHECK_MS = 5_000;

export interface SecretFileOptions {
  /** Check the file for changes at most this often (ms). Default SECRET_FILE_CHECK_MS. */
  checkEveryMs?: number;
  now?: () => number;
}

export type SecretRead = { value: string } | { problem: string };

/** Returns a function giving the file's current content (trimmed), or what is wrong with it. */
export function secretFileReader(path: string, opts: SecretFileOptions = {}): () => SecretRead {
  const checkEveryMs = opts.checkEveryMs ?? SECRET_FILE_CHECK_MS;
  const now = opts.now ?? Date.now;
  let checkedAt = -Infinity;
  let signature = '';
  let current: SecretRead = { problem: 'not read yet' };
  const unreadable = (err: unknown): SecretRead => ({
    problem: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
  });
  const check = () => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch (err) {
      signature = '';
      current = unreadable(err);
      return;
    }
    const sig = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (sig === signature) return;
    try {
      const value = fs.readFileSync(path, 'utf8').trim();
      current = value ? { value } : { problem: `${path} is empty` };
      signature = sig;
    } catch (err) {
      signature = '';
      current = unreadable(err);
    }
  };
  return () => {
    const t = now();
    if (t - checkedAt >= checkEveryMs) {
      checkedAt = t;
      check();
    }
    return current;
  };
}

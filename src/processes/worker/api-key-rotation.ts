/**
 * TEMPORAL_API_KEY_FILE rotation: the file is checked every `everyMs`; when its content changes, the connection's
 * API key is replaced (`NativeConnection.setApiKey`), so a rotated key is used without a restart. A missing or empty
 * file keeps the current key and is logged once (never a value).
 */
import type { Logger } from 'pino';
import { SECRET_FILE_CHECK_MS, secretFileReader } from '../../config/secret-file';

export function watchApiKeyFile(opts: {
  file: string;
  current: string | undefined;
  setApiKey: (key: string) => Promise<void>;
  logger: Pick<Logger, 'info' | 'warn'>;
  everyMs?: number;
}): () => void {
  const everyMs = opts.everyMs ?? SECRET_FILE_CHECK_MS;
  const read = secretFileReader(opts.file, { checkEveryMs: 0 });
  let current = opts.current;
  let reported = '';
  const timer = setInterval(() => {
    const r = read();
    if ('problem' in r) {
      if (r.problem !== reported)
        opts.logger.warn(
          { file: opts.file, problem: r.problem },
          'Temporal API key file unreadable; keeping the current key',
        );
      reported = r.problem;
      return;
    }
    reported = '';
    if (r.value === current) return;
    current = r.value;
    opts.setApiKey(r.value).then(
      () => opts.logger.info({ file: opts.file }, 'Temporal API key rotated from its file'),
      (err: unknown) => opts.logger.warn({ file: opts.file, err }, 'Temporal API key rotation failed'),
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Docs that cannot drift: every repository path named in the README, the docs and the code's comments exists. A file
 * moved or renamed without its mentions fails here, with the file and line that still name it.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const FLOORS = ['src', 'workflows', 'activities', 'simulators', 'test', 'scripts', 'deploy', 'docs'];
const SCANNED = /\.(ts|js|mjs|sh|ya?ml|md)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.tmp', 'histories', 'coverage']);
/** A path on one of the floors, not part of a longer path (`dist/src/…`, a URL); brace and glob forms are skipped. */
const CANDIDATE = new RegExp(`(?<![\\w./@-])(?:${FLOORS.join('|')})/[\\w./-]*(?![\\w{*])`, 'g');
/** What counts as naming a file or folder: a last segment with an extension, or a trailing slash. */
const IS_PATH = /(?:\.[a-z]{1,5}|\/)$/;

function* files(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') && entry.name !== '.ci') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* files(full);
    } else if (SCANNED.test(entry.name) || entry.name === 'run') yield full;
  }
}

/** Every named path of a file, with its line, that does not exist in the repository. */
function missingIn(file: string): string[] {
  const missing: string[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      for (const [candidate] of line.matchAll(CANDIDATE)) {
        const named = candidate.replace(/[.,:;)-]+$/, '');
        if (!IS_PATH.test(named) || fs.existsSync(path.join(ROOT, named))) continue;
        missing.push(`${path.relative(ROOT, file)}:${i + 1} names ${named}`);
      }
    });
  return missing;
}

describe('paths named in docs and comments', () => {
  it('every repository path the README, the docs and the comments name exists', () => {
    const missing = [...files(ROOT)].flatMap(missingIn);
    expect(missing).toEqual([]);
  });
});

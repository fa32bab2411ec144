/** A kustomization rendered as `kubectl kustomize` does (kustomize from scripts/kustomize.sh), as plain objects. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/image-command';

let binary: string | undefined;

export type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

export function kustomize(dir: string): Manifest[] {
  binary ??= execFileSync('bash', [path.join(ROOT, 'scripts/kustomize.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const out = execFileSync(binary, ['build', dir], { cwd: ROOT, encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as Manifest);
}

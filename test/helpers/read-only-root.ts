/**
 * A container's `readOnlyRootFilesystem` and `runAsUser`/`runAsGroup` without a container engine: the command runs in
 * a mount namespace of its own (util-linux `unshare -m`, as root) where every mount is read-only except `emptyDir`,
 * as the given user and group (`setpriv`). The process sees the machine's files, read-only; it may write only
 * under `emptyDir` (the pod's /tmp volume; give it TMPDIR=emptyDir). What this leaves out: the image's own file
 * layout (the process reads this checkout) and /proc and /sys (left as they are).
 */
import fs from 'node:fs';
import path from 'node:path';

const SCRIPT = [
  'set -e',
  'dir="$1"; uid="$2"; gid="$3"; shift 3',
  'mount --make-rprivate /',
  'mount --bind "$dir" "$dir"',
  "for mp in $(awk '{print $2}' /proc/self/mounts | sort -u); do",
  '  case "$mp" in /proc|/proc/*|/sys|/sys/*|"$dir") continue ;; esac',
  '  mount -o remount,bind,ro "$mp" 2>/dev/null || true',
  'done',
  'exec setpriv --reuid "$uid" --regid "$gid" --clear-groups -- "$@"',
].join('\n');

export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
}

/**
 * `command` wrapped to run with a read-only root and `emptyDir` writable (created, owned by the user), as the pod's
 * user. Throws when the container does not declare a read-only root: this rehearses that declaration.
 */
export function readOnlyRoot(command: string[], emptyDir: string, security: ContainerSecurity): string[] {
  if (security.readOnlyRootFilesystem !== true)
    throw new Error('the container does not declare readOnlyRootFilesystem');
  const uid = security.runAsUser ?? 0;
  const gid = security.runAsGroup ?? uid;
  fs.mkdirSync(emptyDir, { recursive: true, mode: 0o770 });
  fs.chownSync(emptyDir, uid, gid);
  traversableCheckout();
  return [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    SCRIPT,
    'sh',
    emptyDir,
    String(uid),
    String(gid),
    ...command,
  ];
}

/**
 * The image's files are readable by the pod's user (the Dockerfile copies them world-readable); here the process
 * reads this checkout, which may sit in a directory only its owner can enter (a `mktemp -d` clone is 0700). Each
 * directory on the way to it gets the others' search bit (enter, not list) for the test process's life.
 */
function traversableCheckout(): void {
  if (restored) return;
  restored = [];
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      fs.chmodSync(dir, mode | 0o001);
      restored.push([dir, mode]);
    }
    if (path.dirname(dir) === dir) break;
  }
  const list = restored;
  process.once('exit', () => {
    for (const [dir, mode] of list) fs.chmodSync(dir, mode);
  });
}
let restored: [string, number][] | undefined;

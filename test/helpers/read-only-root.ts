/**
 * A container's `readOnlyRootFilesystem` and `runAsUser`/`runAsGroup` without a container engine: the command runs in
 * a mount namespace of its own (util-linux `unshare -m`, as root) where every mount is read-only except `emptyDir`,
 * as the given user and group (`setpriv`). The process sees the machine's files, read-only; it may write only
 * under `emptyDir` (the pod's /tmp volume; give it TMPDIR=emptyDir). What this leaves out: the image's own file
 * layout (the process reads this checkout) and /proc and /sys (left as they are).
 */
import fs from 'node:fs';

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

#!/bin/sh
# Entry point of the kandji-datadog image (tini runs it as PID 1's child, then it becomes the command).
# Sizes Node's heap to HEAP_PERCENT (default 75) of the container's memory limit, read from the cgroup
# (v2 memory.max, else v1 memory.limit_in_bytes), unless NODE_OPTIONS already sets --max-old-space-size.
# No limit (or an unreadable cgroup): Node's default. Then execs the command, so signals reach node directly.
#
# It also keeps memory that was freed from staying resident, for a worker that runs hundreds of idle streams for
# months: glibc's allocator (the Temporal core is Rust, on many threads) gets two arenas instead of eight per core,
# and blocks over 128 KB (histories, pages) are mapped and unmapped on their own, so that a burst does not stay
# resident (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, each unless set). Measured with
# `BENCH_PARTS=idle npm run bench` (668 idle streams), all else equal: 353 MB without, 303 MB with, and no more CPU.
# V8's young generation keeps its default: 1 MB semi-spaces saved 25 MB more but cost 60% more CPU in a drain.
set -eu

export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"

heap_percent="${HEAP_PERCENT:-75}"
limit_file="${CGROUP_MEMORY_LIMIT_FILE:-}"
if [ -z "$limit_file" ]; then
  for f in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
    if [ -r "$f" ]; then limit_file="$f"; break; fi
  done
fi

case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    limit="$(cat "$limit_file" 2>/dev/null || true)"
    # "max" (v2) or a huge number (v1 without limit) mean no limit.
    if [ -n "$limit" ] && [ "$limit" != "max" ] && [ "$limit" -lt 1099511627776 ] 2>/dev/null; then
      heap_mb=$((limit / 1048576 * heap_percent / 100))
      export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-old-space-size=$heap_mb"
    fi
    ;;
esac

exec "$@"

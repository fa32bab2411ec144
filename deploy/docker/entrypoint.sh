#!/bin/sh
# Entry point of the kandji-datadog image (tini runs it as PID 1's child, then it becomes the command).
# Sizes Node's heap to HEAP_PERCENT (default 75) of the container's memory limit, read from the cgroup
# (v2 memory.max, else v1 memory.limit_in_bytes), unless NODE_OPTIONS already sets --max-old-space-size.
# No limit (or an unreadable cgroup): Node's default. Then execs the command, so signals reach node directly.
#
# It also keeps memory that was freed from staying resident, for a worker that runs hundreds of idle streams for
# months (measured with `BENCH_PARTS=idle npm run bench`: 668 idle streams, 378 MB before, under 300 MB after):
# - V8's young generation: a worker has two heaps (the main thread, and the workflow thread the Temporal SDK runs
#   every workflow in), each with semi-spaces that grow to 16 MB; 1 MB each (--max-semi-space-size, unless
#   NODE_OPTIONS sets it) suits a worker whose objects are either short-lived or cached for good;
# - glibc's allocator (the Temporal core is Rust, on many threads): two arenas instead of eight per core, and
#   blocks over 128 KB (history, pages) mapped and unmapped on their own, so that a burst does not stay resident
#   (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, unless set).
set -eu

export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"
case "${NODE_OPTIONS:-}" in
  *--max-semi-space-size*) ;;
  *) export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-semi-space-size=1" ;;
esac

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

#!/usr/bin/env bash
# Installs (once) Temporal's time-skipping test server and prints the path of an executable that starts it, for
# TestWorkflowEnvironment.createTimeSkipping (the fast workflow tests, test/workflows/).
#
# @temporalio/testing would download a native build of it from temporal.download, which a machine without general
# internet access cannot reach. The same server is published to Maven Central as the Java artifact
# io.temporal:temporal-test-server: this resolves it (pinned) with Maven into a cache outside the repository and
# writes a launcher that runs it on the JVM (Java >= 11; 17 here). Needs `java` and `mvn` once, then only `java`.
# Override: TEMPORAL_TEST_SERVER_PATH=/path/to/temporal-test-server skips all of this.
set -euo pipefail

if [[ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]]; then
  [[ -x "$TEMPORAL_TEST_SERVER_PATH" ]] || { echo "TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not an executable" >&2; exit 1; }
  echo "$TEMPORAL_TEST_SERVER_PATH"; exit 0
fi

version=1.38.0
cache_root="${KANDJI_DATADOG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kandji-datadog}"
dir="$cache_root/temporal-test-server-$version"
launcher="$dir/bin/temporal-test-server"
if [[ -x "$launcher" ]]; then echo "$launcher"; exit 0; fi

command -v java >/dev/null || { echo "java is not installed; the time-skipping test server runs on the JVM (Java >= 11)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "mvn is not installed; it is needed once to fetch the test server from Maven Central" >&2; exit 1; }

echo "Fetching io.temporal:temporal-test-server:$version from Maven Central into $dir (first run only)..." >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kandji-datadog</groupId>
  <artifactId>temporal-test-server-launcher</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$version</version></dependency>
    <!-- a logger that says nothing: without one, SLF4J prints a warning at every start -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
rm -rf "$dir.partial"
# (Maven 3.8 colours its output whatever it is told: the escapes are stripped.)
mvn -B -q -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir.partial/lib" 2>&1 \
  | sed 's/\x1b\[[0-9;]*m//g' >&2
mkdir -p "$dir.partial/bin"
# Called as `<launcher> <port> [args]` by the SDK. A small heap, one GC thread and the client compiler: it starts in
# under a second and leaves the 2 cores to the tests.
cat >"$dir.partial/bin/temporal-test-server" <<'EOF'
#!/bin/sh
here="$(cd "$(dirname "$0")/.." && pwd)"
exec java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
EOF
chmod +x "$dir.partial/bin/temporal-test-server"
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "$launcher"

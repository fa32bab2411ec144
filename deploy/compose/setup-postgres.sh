#!/bin/sh
# Schema setup of the compose stack's Temporal databases (run by the temporal-schema service, admin-tools image).
# Idempotent: an existing database or schema is kept and only brought up to date.
# SQL_HOST, SQL_PORT and SCHEMA_DIR default to the compose stack's (the rehearsal outside containers sets them).
set -eu
host="${SQL_HOST:-postgresql}"
port="${SQL_PORT:-5432}"
schema_dir="${SCHEMA_DIR:-/etc/temporal/schema}"
sql() { temporal-sql-tool --plugin postgres12 --ep "$host" -p "$port" -u temporal --pw "$SQL_PASSWORD" "$@"; }

until nc -z -w 5 "$host" "$port"; do echo 'waiting for PostgreSQL'; sleep 2; done
for db in temporal temporal_visibility; do
  schema=temporal
  [ "$db" = temporal_visibility ] && schema=visibility
  sql --db "$db" create || echo "database $db exists"
  sql --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  sql --db "$db" update-schema -d "$schema_dir/postgresql/v12/$schema/versioned"
done
echo 'PostgreSQL schema setup complete'

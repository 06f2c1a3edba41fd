#!/usr/bin/env bash
# `make restore FILE=… [DB=ocpizza]`: replaces the database with a dump made by
# `make backup`. The database is dropped first: this is a restore, not a merge.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
need_database

DB="${DB:-ocpizza}"
[[ -n "${FILE:-}" && -f "$FILE" ]] || die "give the dump to restore: make restore FILE=.run/backups/…sql.gz"
[[ "$DB" =~ ^[A-Za-z0-9_]+$ ]] || die "unexpected database name $DB"
mysql --protocol=tcp -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$DB\`; CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
gunzip -c "$FILE" | mysql --protocol=tcp -h127.0.0.1 -uroot "$DB"
say "restored $DB from $FILE"

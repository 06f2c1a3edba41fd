#!/usr/bin/env bash
# `make backup [DB=ocpizza] [FILE=…]`: a consistent dump of the local database
# (one transaction, no lock on the shop), gzip-compressed. In production the
# same role is played by RDS automated snapshots and point-in-time recovery
# (infra/README.md); this is the local procedure and the restore drill's.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
need_database

DB="${DB:-ocpizza}"
mkdir -p "$RUN_DIR/backups"
FILE="${FILE:-$RUN_DIR/backups/$DB-$(date -u +%Y%m%dT%H%M%SZ).sql.gz}"
# No CREATE DATABASE in the dump: it restores into any database name.
mysqldump --protocol=tcp -h127.0.0.1 -uroot --single-transaction --quick \
    --routines --triggers --hex-blob --no-tablespaces "$DB" | gzip >"$FILE"
say "backup of $DB: $FILE ($(du -h "$FILE" | cut -f1))"

#!/usr/bin/env bash
# The restore drill, run by `make test`: a database with the demo data and
# orders in every state is dumped with `make backup`, wiped, restored with
# `make restore`, and every table must come back with the same row count and
# the same checksum.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
need_database

DB=ocpizza_drill
export DATABASE_URL="mysql://root@127.0.0.1:3306/$DB"
sql() { mysql --protocol=tcp -h127.0.0.1 -uroot -N "$@"; }

sql -e "DROP DATABASE IF EXISTS $DB"
admin migrate >/dev/null
admin seed >/dev/null
admin history 2000 >/dev/null
# History orders end delivered, picked up or cancelled; give a few of them
# each of the other states, so every state is in the dump.
i=0
for status in pending_payment placed preparing ready out_for_delivery; do
    i=$((i + 1))
    sql "$DB" -e "UPDATE orders SET status = '$status' WHERE id = (SELECT id FROM (SELECT id FROM orders WHERE fulfilment = 'delivery' ORDER BY id LIMIT $((i - 1)), 1) x)"
done
states=$(sql "$DB" -e "SELECT COUNT(DISTINCT status) FROM orders")
((states == 8)) || die "the drill needs orders in all 8 states, found $states"

fingerprint() { # one line per table: name, rows, checksum
    local t
    for t in $(sql -e "SELECT table_name FROM information_schema.tables WHERE table_schema = '$DB' ORDER BY table_name"); do
        printf '%s %s %s\n' "$t" "$(sql "$DB" -e "SELECT COUNT(*) FROM \`$t\`")" \
            "$(sql "$DB" -e "CHECKSUM TABLE \`$t\`" | awk '{print $2}')"
    done
}
before=$(fingerprint)
FILE="$RUN_DIR/drill.sql.gz"
DB=$DB FILE=$FILE bash "$ROOT/infra/local/backup.sh" >/dev/null
sql -e "DROP DATABASE $DB"
DB=$DB FILE=$FILE bash "$ROOT/infra/local/restore.sh" >/dev/null
after=$(fingerprint)

if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    die "restore drill: the restored database differs"
fi
tables=$(echo "$after" | wc -l)
rows=$(echo "$after" | awk '{s += $2} END {print s}')
say "restore drill: $tables tables, $rows rows, orders in $states states: counts and checksums equal after dump, wipe and restore"
sql -e "DROP DATABASE $DB"
rm -f "$FILE"

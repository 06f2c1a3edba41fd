#!/usr/bin/env bash
# The compile-time SQL cache (.sqlx/, committed). Every `sqlx::query!` of the
# domain crate is checked against the schema that migrations/ builds, in a
# database of its own (ocpizza_sqlx, rebuilt from scratch each time); builds
# then read the cache (SQLX_OFFLINE=true in .cargo/config.toml) and need no
# database.
#   sqlx.sh prepare   rewrite .sqlx/ after changing a query or a migration
#   sqlx.sh check     fail when .sqlx/ is not what the queries and schema give
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_database
need_sqlx_cli
DB=ocpizza_sqlx
export DATABASE_URL="mysql://root@127.0.0.1:3306/$DB"
mysql --protocol=tcp -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sqlx migrate run --source migrations >/dev/null
case "${1:-check}" in
    prepare) cargo sqlx prepare --workspace ;;
    check)
        say "checking the compile-time SQL cache (.sqlx/) against migrations/"
        cargo sqlx prepare --workspace --check \
            || die ".sqlx/ is out of date: run \`make sqlx\` and commit .sqlx/"
        ;;
    *) die "usage: sqlx.sh prepare|check" ;;
esac

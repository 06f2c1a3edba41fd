#!/usr/bin/env bash
# `make bench`: release builds against the real services, one table of figures
# (printed and saved as target/bench/report.md). Uses its own database,
# ocpizza_bench, so the demo database of `make run` is left alone.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_python_tools
need_database

export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_bench"
HISTORY="${BENCH_HISTORY:-1000000}"
REPORT_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/bench"
mkdir -p "$REPORT_DIR"
ROWS="$REPORT_DIR/rows.md"
: >"$ROWS"

say "building the benchmarks (release)"
cargo build --release --quiet -p ocpizza --bin ocpizza-admin
cargo bench --quiet --no-run -p menu --bench menu
ADMIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ocpizza-admin"

say "fresh benchmark database with the demo data"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_bench'
"$ADMIN" migrate
"$ADMIN" seed

say "menu with no order history"
cargo bench --quiet -p menu --bench menu -- "0 orders" | tee -a "$ROWS"

# The big history is kept between runs in its own database (generating a
# million orders takes minutes); it is rebuilt when missing or short.
export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_bench_history"
"$ADMIN" migrate
"$ADMIN" seed
have=$(mysql --protocol=tcp -h127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM ocpizza_bench_history.orders')
if ((have < HISTORY)); then
    say "adding $((HISTORY - have)) historical orders (kept for the next run)"
    start=$SECONDS
    "$ADMIN" history "$((HISTORY - have))"
    printf '| history generator | %d s | %s orders inserted in SQL (samples/history.sql) | — |\n' "$((SECONDS - start))" "$((HISTORY - have))" >>"$ROWS"
fi
have=$(mysql --protocol=tcp -h127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM ocpizza_bench_history.orders')

say "menu with $have orders of history"
cargo bench --quiet -p menu --bench menu -- "$have orders" | tee -a "$ROWS"

{
    echo "# OC Pizza benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(mysql --protocol=tcp -h127.0.0.1 -uroot -N -e 'SELECT VERSION()')"
    echo
    echo "| figure | result | method | goal |"
    echo "|---|---|---|---|"
    cat "$ROWS"
} >"$REPORT_DIR/report.md"
echo
cat "$REPORT_DIR/report.md"
echo
say "saved to $REPORT_DIR/report.md"

#!/usr/bin/env bash
# `make bench`: release builds against the real services, one table of figures
# (printed and saved as target/bench/report.md). Uses its own database,
# ocpizza_bench, so the demo database of `make run` is left alone.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_python_tools
need_database
trap 'stop_started' EXIT
need_sqs

export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_bench"

# The CPU seconds (user and system) the local MariaDB server has used so
# far, from /proc (`utime` and `stime`, in 1/100 s); nothing when its
# process cannot be read.
server_cpu_seconds() {
    local pid
    pid=$(cat "$(mysql --protocol=tcp -h127.0.0.1 -uroot -N -e 'SELECT @@pid_file')" 2>/dev/null) || return 0
    [[ -r "/proc/$pid/stat" ]] || return 0
    sed 's/.*) //' "/proc/$pid/stat" | awk '{print ($12 + $13) / 100}'
}
HISTORY="${BENCH_HISTORY:-1000000}"
REPORT_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/bench"
mkdir -p "$REPORT_DIR"
ROWS="$REPORT_DIR/rows.md"
: >"$ROWS"

say "building the benchmarks (release)"
if ! command -v sysbench >/dev/null; then
    command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sysbench >/dev/null || true
fi
cargo build --release --quiet -p ocpizza --bin ocpizza-admin
cargo bench --quiet --no-run -p menu --bench menu
cargo bench --quiet --no-run -p checkout --bench checkout
cargo bench --quiet --no-run -p kitchen --bench pipeline
cargo bench --quiet --no-run -p accounts --bench login
cargo bench --quiet --no-run -p backoffice --bench revenue
ADMIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ocpizza-admin"

say "fresh benchmark database with the demo data"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_bench'
"$ADMIN" migrate
"$ADMIN" seed

say "menu with no order history"
cargo bench --quiet -p menu --bench menu -- "0 orders" | tee -a "$ROWS"

say "login (argon2id)"
cargo bench --quiet -p accounts --bench login | tee -a "$ROWS"

# The database's own write ceiling on this machine, from the same run:
# sysbench oltp_write_only, 4 tables x 10,000 rows, 64 threads.
# Its CPU per transaction too (the server's, from /proc, and sysbench's
# own): the checkout benchmark gives an order's CPU in those transactions,
# which the machine's speed of the minute does not move.
CEILING=0
SYSBENCH_CPU_MS=0
if command -v sysbench >/dev/null; then
    say "sysbench oltp_write_only (64 threads) as the ceiling"
    mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest'
    SB=(sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=10000)
    "${SB[@]}" prepare >/dev/null
    server_before=$(server_cpu_seconds)
    TIMEFORMAT='%U %S'
    { time "${SB[@]}" --threads=64 --time=15 run >"$REPORT_DIR/sysbench.txt" 2>&1; } 2>"$REPORT_DIR/sysbench.time"
    server_after=$(server_cpu_seconds)
    CEILING=$(awk '/transactions:/ {gsub("[(]", "", $3); print int($3)}' "$REPORT_DIR/sysbench.txt")
    total=$(awk '/transactions:/ {print $2}' "$REPORT_DIR/sysbench.txt")
    "${SB[@]}" cleanup >/dev/null
    cpu="server not measured"
    if [[ -n "$server_before" && -n "$server_after" && "${total:-0}" -gt 0 ]]; then
        read -r client_user client_system < <(tail -n 1 "$REPORT_DIR/sysbench.time")
        read -r SYSBENCH_CPU_MS cpu < <(awk -v b="$server_before" -v a="$server_after" \
            -v u="$client_user" -v y="$client_system" -v n="$total" 'BEGIN {
                server = (a - b) * 1000 / n; client = (u + y) * 1000 / n
                printf "%.4f CPU per transaction: server %.2f ms, sysbench %.2f ms\n", server + client, server, client }')
    fi
    printf '| sysbench oltp_write_only ceiling | %s tx/s; %s | 64 threads, 4 tables x 10,000 rows, 15 s, same MariaDB | — |\n' "$CEILING" "$cpu" | tee -a "$ROWS"
fi

say "checkout"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_bench'
"$ADMIN" migrate
"$ADMIN" seed
"$ADMIN" queues
cargo bench --quiet -p checkout --bench checkout -- "$CEILING" "$SYSBENCH_CPU_MS" | tee -a "$ROWS"

say "placed → kitchen display, through the queue and the poller"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_bench'
"$ADMIN" migrate
"$ADMIN" seed
cargo bench --quiet -p kitchen --bench pipeline | tee -a "$ROWS"

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
# A history kept from before the revenue summaries has none yet: the
# generator counts what it adds, the rebuild what was there (once).
rebuilt=$(mysql --protocol=tcp -h127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM ocpizza_bench_history.revenue_rebuilds WHERE finished_at IS NOT NULL')
if ((rebuilt == 0)); then
    say "counting the $have orders of history in the revenue summaries (once)"
    start=$SECONDS
    "$ADMIN" revenue-rebuild
    printf '| revenue summaries rebuilt | %d s | %s orders (`ocpizza-admin revenue-rebuild`) | — |\n' "$((SECONDS - start))" "$have" >>"$ROWS"
fi

say "menu with $have orders of history"
cargo bench --quiet -p menu --bench menu -- "$have orders" | tee -a "$ROWS"

say "revenue report over the last year of the $have orders"
cargo bench --quiet -p backoffice --bench revenue | tee -a "$ROWS"

say "cold start, warm duration, memory and size of every function"
# Its own build of the functions and its own fresh database; a function that
# fails gets a "failed" row and the rest of the report is still written.
ROWS="$ROWS" bash infra/local/coldstart.sh || say "coldstart: a function failed (see its row)"

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

# The latest figures in docs/performance.md are this report, written between
# its markers; what they say around them is written by hand.
python3 - "$REPORT_DIR/report.md" "$ROOT/docs/performance.md" <<'PY'
import sys
report, doc = open(sys.argv[1]).read().strip(), sys.argv[2]
text = open(doc).read()
start, end = "<!-- make bench: start -->", "<!-- make bench: end -->"
if start in text and end in text:
    head, rest = text.split(start, 1)
    text = head + start + "\n" + report.replace("# OC Pizza benchmark", "Run", 1) + "\n" + end + rest.split(end, 1)[1]
    open(doc, "w").write(text)
PY
say "docs/performance.md: its latest figures replaced by this run's"

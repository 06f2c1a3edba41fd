#!/usr/bin/env bash
# Cold start, warm duration, resident memory and binary size of every
# function, each release binary run as Lambda runs it: under a local Lambda
# Runtime API (infra/local/coldstart), on the benchmark database with the demo
# data. Part of `make bench`; runs alone too:
#   bash infra/local/coldstart.sh [FUNCTION…]
# Prints the rows of the bench table (`| figure | result | method | goal |`);
# appends them to $ROWS too when bench.sh names its file.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_python_tools
need_database
trap 'stop_started' EXIT
# checkout sends `order.placed` after its commit, as in production.
need_sqs

export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_bench"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LOG_DIR="$TARGET/bench/coldstart"
mkdir -p "$LOG_DIR"

ALL=()
for dir in functions/*/; do
    ALL+=("$(basename "$dir")")
done
FUNCTIONS=("$@")
((${#FUNCTIONS[@]} > 0)) || FUNCTIONS=("${ALL[@]}")
args=()
for f in "${ALL[@]}"; do args+=(-p "$f"); done
say "building ${#ALL[@]} functions (release, $(uname -m)) and the local Lambda runtime" >&2
# All the functions in one build, as `make lambdas` builds them (the same
# features, whichever are measured); the tools in another, so they add no
# feature to the functions'.
cargo build --release --quiet --locked "${args[@]}"
cargo build --release --quiet --locked -p ocpizza --bin ocpizza-admin
cargo build --release --quiet --locked -p coldstart
ADMIN="$TARGET/release/ocpizza-admin"

say "fresh benchmark database with the demo data" >&2
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_bench'
"$ADMIN" migrate >&2
"$ADMIN" seed >&2
"$ADMIN" queues >&2

say "cold starts (median of 5 processes), then 1,000 warm invocations, per function" >&2
rows="$LOG_DIR/rows.md"
status=0
"$TARGET/release/coldstart" --runs 5 --warm 1000 --bin-dir "$TARGET/release" --log-dir "$LOG_DIR" \
    "${FUNCTIONS[@]}" >"$rows" || status=$?
cat "$rows"
if [[ -n "${ROWS:-}" ]]; then
    cat "$rows" >>"$ROWS"
fi
say "each function's output: $LOG_DIR/<function>.log" >&2
exit "$status"

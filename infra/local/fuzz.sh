#!/usr/bin/env bash
# `make fuzz`: only the fuzz tests (functions/*/tests/fuzz.rs and
# shared/testkit/tests/*_fuzz.rs), with many more cases per target than
# `make test` runs (FUZZ_CASES, 5000 by default; another FUZZ_SEED draws
# other cases), against the same real services.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_python_tools
need_database
trap 'stop_started' EXIT
need_sqs
need_stripe

export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_test"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS ocpizza_test'
export FUZZ_CASES="${FUZZ_CASES:-5000}"
say "fuzzing every function's inputs, $FUZZ_CASES cases per target"
# --nocapture: each target prints its count, time and answers by status.
cargo test --workspace --locked --test '*fuzz' -- --nocapture "$@" 2>&1 \
    | grep -v '^created database'
say "the money rule under random interleavings, $((FUZZ_CASES / 2)) cases"
cargo test -p testkit --locked --test money the_money_rule_holds_under_any_interleaving -- --nocapture "$@" 2>&1 \
    | grep -v '^created database'
say "fuzzing passed"

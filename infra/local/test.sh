#!/usr/bin/env bash
# `make test`: every test, against real services (MariaDB, the SQS-compatible
# server, localstripe, an SMTP server), starting what is not running and
# stopping it after.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

need_rust
need_python_tools
need_database
# The browser tests bring up the stack of `make run` on its port: say now, not
# after the other tests, when it is taken.
if listening "$WATCH_PORT"; then
    die "port $WATCH_PORT is taken (make run?): stop it, the browser tests bring up their own stack"
fi
trap 'stop_started' EXIT
need_sqs
need_stripe
# The tests read the e-mails from the maildir of an SMTP server of their own
# (not the one `make run` may be serving on 2525, whose maildir is elsewhere).
SMTP_PORT=2526
export SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
export MAILDIR="$RUN_DIR/test-mail"
if listening "$SMTP_PORT"; then
    die "port $SMTP_PORT is taken: the tests need their own SMTP server there"
fi
need_smtp test-smtp
# The outage tests run servers of their own, to stop and kill them.
export MOTO_SERVER="$VENV/bin/moto_server"

# #[sqlx::test] creates a fresh database per test on this server and drops it
# after; DATABASE_URL names the server (its database part is ignored).
# sqlx keeps its bookkeeping in that database, so it must exist.
export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_test"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS ocpizza_test'
say "checking infra/template.yaml (cfn-lint)"
"$VENV/bin/cfn-lint" infra/template.yaml
"$VENV/bin/python" infra/template_test.py
say "restore drill"
bash "$ROOT/infra/local/restore-drill.sh"
say "running the tests"
# Benches are compiled by `make lint` (clippy --all-targets) and run by `make bench`.
cargo test --workspace --lib --bins --tests --locked -- "$@"
# The pages in Chromium, against the whole stack (its own database and SMTP).
(
    unset DATABASE_URL SMTP_URL MAILDIR SMTP_PORT
    bash "$ROOT/infra/local/web-test.sh"
)
say "all tests passed"

#!/usr/bin/env bash
# CI's smoke test: brings the stack up with `make run`, runs infra/smoke.sh
# against it (menu → checkout → follow → kitchen display → cancel), then the
# money attacks (infra/local/money-attacks.sh) over HTTP, and stops what it
# started.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
listening "$WATCH_PORT" && die "port $WATCH_PORT is taken: stop the running stack first"

# A database of its own, fresh each time, like the browser tests: what an
# earlier run (or a developer) left in `ocpizza` is not this run's to judge.
export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_smoke"
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_smoke'
LOG="$RUN_DIR/smoke-run.log"
setsid bash infra/local/run.sh >"$LOG" 2>&1 &
RUN_PID=$!
stop_run() {
    kill -TERM -- "-$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
}
trap stop_run EXIT
for _ in $(seq 1 300); do
    listening "$WATCH_PORT" && break
    kill -0 "$RUN_PID" 2>/dev/null || { tail -30 "$LOG" >&2; die "make run stopped before serving"; }
    sleep 1
done
listening "$WATCH_PORT" || { tail -30 "$LOG" >&2; die "make run did not serve on $WATCH_PORT in 5 minutes"; }
if ! bash infra/smoke.sh "http://localhost:$WATCH_PORT/lambda-url"; then
    tail -40 "$LOG" >&2
    die "smoke test failed against make run"
fi
if ! bash infra/local/money-attacks.sh "http://localhost:$WATCH_PORT/lambda-url"; then
    tail -40 "$LOG" >&2
    die "a money attack succeeded against make run"
fi
# What the smoke test did must add up: statuses, payments, stock, e-mails.
admin audit || die "the reconciliation check found disagreements in $DATABASE_URL (see above)"

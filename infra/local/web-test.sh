#!/usr/bin/env bash
# The browser tests (functions/storefront/tests/browser): brings the stack up
# as `make run` does, on a fresh database of demo data (ocpizza_web), drives
# Debian's headless Chromium through it with playwright-core, saves a
# screenshot of each screen under target/screenshots/, and stops what it
# started. Run by `make test`; alone: bash infra/local/web-test.sh
source "$(dirname "$0")/common.sh"
cd "$ROOT"
listening "$WATCH_PORT" && die "port $WATCH_PORT is taken: stop the running stack (make run) first, the browser tests bring up their own"

# Debian's Chromium (a downloaded browser would not start here) and Node.
if [[ ! -x /usr/bin/chromium ]]; then
    command -v apt-get >/dev/null || die "the browser tests need Chromium at /usr/bin/chromium"
    say "installing Chromium (Debian's)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
command -v node >/dev/null || { say "installing Node.js"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
TESTS="$ROOT/functions/storefront/tests/browser"
if [[ ! -d "$TESTS/node_modules/playwright-core" ]] || ! cmp -s "$TESTS/package-lock.json" "$TESTS/node_modules/.package-lock.json.copy"; then
    say "installing playwright-core (npm ci)"
    (cd "$TESTS" && npm ci --no-audit --no-fund --silent && cp package-lock.json node_modules/.package-lock.json.copy)
fi

# A stack of its own: its own database, its own SMTP maildir (not make test's).
export DATABASE_URL="mysql://root@127.0.0.1:3306/ocpizza_web"
unset SMTP_URL MAILDIR
mysql --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS ocpizza_web'
# And empty queues: messages another run left in the local queues (orders of
# another database) would hold up this stack's tickets. `make run` recreates them.
need_python_tools
need_sqs
"$VENV/bin/python" - <<PY
import boto3
sqs = boto3.client("sqs", endpoint_url="$AWS_ENDPOINT_URL", region_name="$AWS_REGION",
                   aws_access_key_id="local", aws_secret_access_key="local")
for name in ("ocpizza-kitchen", "ocpizza-delivery", "ocpizza-kitchen-dlq", "ocpizza-delivery-dlq"):
    try:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        pass
PY
# The functions, built before the stack starts so the first page does not wait.
say "building the functions for cargo lambda watch"
cargo build --quiet --workspace --bins
LOG="$RUN_DIR/web-run.log"
setsid bash infra/local/run.sh >"$LOG" 2>&1 &
RUN_PID=$!
stop_run() {
    kill -TERM -- "-$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
    stop_started
}
trap stop_run EXIT
BASE="http://localhost:$WATCH_PORT/lambda-url"
for _ in $(seq 1 300); do
    listening "$WATCH_PORT" && break
    kill -0 "$RUN_PID" 2>/dev/null || { tail -30 "$LOG" >&2; die "make run stopped before serving"; }
    sleep 1
done
listening "$WATCH_PORT" || { tail -30 "$LOG" >&2; die "make run did not serve on $WATCH_PORT in 5 minutes"; }
say "waking every function up"
for url in storefront/config.json menu/pizzerias orders/orders checkout/orders kitchen/recipes/1 delivery/deliveries \
    accounts/me backoffice/products photos/photos geocode/geocode stripe-webhook/; do
    curl -s -o /dev/null --max-time 300 "$BASE/$url" || die "$BASE/$url does not answer (see $LOG)"
done
say "browser tests (screenshots in target/screenshots/)"
mkdir -p "$ROOT/target/screenshots"
rm -f "$ROOT/target/screenshots/FAILED-"*.png # an earlier run's failures
OUT="$RUN_DIR/web-test.out"
if ! (cd "$TESTS" && WEB_BASE="$BASE" WEB_DATABASE=ocpizza_web SCREENSHOTS="$ROOT/target/screenshots" node --test --test-concurrency=1 --test-reporter=spec) 2>&1 | tee "$OUT"; then
    # The stack's last lines, then which test failed and why: last, so that
    # the tail of a CI log names the assertion.
    say "the stack's last lines ($LOG)"
    tail -40 "$LOG" >&2
    say "what failed"
    sed -n '/failing tests:/,$p' "$OUT" >&2
    die "browser tests failed (screenshots so far in target/screenshots/)"
fi
# What the pages did must add up: statuses, payments, stock, e-mails.
say "reconciliation check of what the browser tests did"
admin audit || die "the reconciliation check found disagreements in $DATABASE_URL (see above)"

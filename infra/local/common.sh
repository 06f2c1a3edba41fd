# Shared by the local stack's scripts: paths, local settings, and helpers that
# install or start what is missing. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# CI keeps the venv outside the clone (OCPIZZA_VENV) so runs reuse it.
VENV="${OCPIZZA_VENV:-$ROOT/.venv}"
RUN_DIR="$ROOT/.run"
mkdir -p "$RUN_DIR"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"

# Local settings. The same defaults are built into shared/src/platform/config.rs; they
# are exported here so every process of the stack (and `cargo lambda watch`)
# agrees. Nothing here is a production value.
export DATABASE_URL="${DATABASE_URL:-mysql://root@127.0.0.1:3306/ocpizza}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:9324}"
export AWS_REGION="${AWS_REGION:-eu-west-3}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export KITCHEN_QUEUE_URL="${KITCHEN_QUEUE_URL:-http://127.0.0.1:9324/123456789012/ocpizza-kitchen}"
export DELIVERY_QUEUE_URL="${DELIVERY_QUEUE_URL:-http://127.0.0.1:9324/123456789012/ocpizza-delivery}"
export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:8420}"
export STRIPE_SECRET_KEY="${STRIPE_SECRET_KEY:-sk_test_local}"
export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local}"
export ALLOWED_ORIGINS="${ALLOWED_ORIGINS:-http://localhost:9000,http://127.0.0.1:9000}"
export SMTP_URL="${SMTP_URL:-smtp://127.0.0.1:2525}"
export SMTP_FROM="${SMTP_FROM:-OC Pizza <commandes@ocpizza.test>}"
# Where e-mails' tracker links lead: the storefront as `make run` serves it.
export SITE_URL="${SITE_URL:-http://localhost:${WATCH_PORT:-9000}/lambda-url/storefront/}"
# The product photos: a bucket on the local S3 server (moto serves S3 beside
# SQS, on the same port), read path-style and without signing by the pages.
export PHOTOS_BUCKET="${PHOTOS_BUCKET:-ocpizza-photos}"
export PHOTOS_URL="${PHOTOS_URL:-$AWS_ENDPOINT_URL/$PHOTOS_BUCKET}"
# Where the local SMTP server keeps what it receives (a maildir; tests read it).
export MAILDIR="${MAILDIR:-$RUN_DIR/mail}"

SQS_PORT=9324
STRIPE_PORT=8420
SMTP_PORT=2525
WATCH_PORT="${WATCH_PORT:-9000}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits for a port to answer. When the service was started here (its pid
# file exists) and has died, says so at once with the end of its log.
wait_port() { # port name [seconds]
    local i pid
    pid=$(cat "$RUN_DIR/$2.pid" 2>/dev/null || true)
    for ((i = 0; i < ${3:-60} * 10; i++)); do
        listening "$1" && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$RUN_DIR/$2.log" >&2 2>/dev/null || true
            die "$2 exited before listening on port $1 (log: $RUN_DIR/$2.log)"
        fi
        sleep 0.1
    done
    tail -n 20 "$RUN_DIR/$2.log" >&2 2>/dev/null || true
    die "$2 did not start on port $1 within ${3:-60} s (log: $RUN_DIR/$2.log)"
}

need_rust() {
    command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
}

# The Python tools, pinned, in the project's .venv.
need_python_tools() {
    local stamp="$VENV/.requirements"
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating .venv"
        python3 -m venv "$VENV" || die "python3 with venv is needed (apt-get install python3-venv)"
    fi
    if ! cmp -s "$ROOT/infra/local/requirements.txt" "$stamp"; then
        say "installing the Python tools (cargo-lambda, moto, localstripe, aiosmtpd, cfn-lint)"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/infra/local/requirements.txt"
        cp "$ROOT/infra/local/requirements.txt" "$stamp"
    fi
}

# A MySQL/MariaDB on 127.0.0.1:3306: reuse a running one, start an installed
# one, or install MariaDB from Debian's packages.
need_database() {
    if mysqladmin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1 || listening 3306; then
        return 0
    fi
    if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
        command -v apt-get >/dev/null || die "no MySQL/MariaDB on 127.0.0.1:3306 and none installed"
        say "installing MariaDB"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
    fi
    say "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_port 3306 mariadb 60
}

# sqlx-cli, the version of the workspace's sqlx, for the compile-time SQL cache
# (`make sqlx`, and its check in `make lint`). Installed once with cargo.
SQLX_CLI_VERSION=0.8.6
need_sqlx_cli() {
    if [[ "$(sqlx --version 2>/dev/null)" != "sqlx-cli $SQLX_CLI_VERSION" ]]; then
        say "installing sqlx-cli $SQLX_CLI_VERSION (once)"
        cargo install --quiet --locked sqlx-cli --version "=$SQLX_CLI_VERSION" \
            --no-default-features --features mysql,rustls
    fi
}

# Starts a background service unless its port already answers; records the
# pid of what we started so `stop_started` stops only that.
STARTED=()
start_service() { # name port command...
    local name=$1 port=$2
    shift 2
    if listening "$port"; then
        return 0
    fi
    say "starting $name on 127.0.0.1:$port"
    setsid "$@" >"$RUN_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
    STARTED+=("$name")
    wait_port "$port" "$name"
}

stop_started() {
    local name pid
    for name in "${STARTED[@]}"; do
        pid=$(cat "$RUN_DIR/$name.pid" 2>/dev/null || true)
        [[ -n "$pid" ]] && { kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; }
        rm -f "$RUN_DIR/$name.pid"
    done
    STARTED=()
}

need_sqs() { start_service sqs "$SQS_PORT" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$SQS_PORT"; }
# The photos bucket on the local S3 server, made once (moto keeps it while it
# runs), with a policy letting anyone read its files: locally the pages load
# the photos from it directly, as CloudFront alone reads the real one.
need_photos_bucket() {
    "$VENV/bin/python" - "$AWS_ENDPOINT_URL" "$AWS_REGION" "$PHOTOS_BUCKET" <<'PY'
import json, sys
import boto3
endpoint, region, bucket = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id="local", aws_secret_access_key="local")
if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
    where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **where)
s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{bucket}/*"}],
}))
print(f"photos bucket {bucket}: {endpoint}/{bucket}")
PY
}
# --from-scratch: without it localstripe loads /tmp/localstripe.pickle, which it
# rewrites whole on every change; a file left by an earlier run (or cut short
# when that run was killed) made it slow to start or crash before listening.
need_stripe() { start_service localstripe "$STRIPE_PORT" "$VENV/bin/localstripe" --port "$STRIPE_PORT" --from-scratch; }
# aiosmtpd's Mailbox handler stores each e-mail it receives as a file in $MAILDIR/new.
# The name (default smtp) keys its pid file: `make test` names its own server
# apart from the one of the stack its browser tests bring up.
need_smtp() {
    mkdir -p "$MAILDIR"/{cur,new,tmp}
    start_service "${1:-smtp}" "$SMTP_PORT" "$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAILDIR"
}

admin() { cargo run --quiet -p ocpizza --bin ocpizza-admin -- "$@"; }

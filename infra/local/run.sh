#!/usr/bin/env bash
# `make run`: the whole system on this machine, on demo data.
source "$(dirname "$0")/common.sh"
# Locally every client is 127.0.0.1: the limits per client address
# (shared/src/platform/rate_limit.rs) would count the browser tests, the smoke test and
# a developer as one visitor. The limits per phone, order and account stay.
export RATE_GUEST_ORDERS_ADDRESS="${RATE_GUEST_ORDERS_ADDRESS:-10000/3600}"
export RATE_SIGN_UPS_ADDRESS="${RATE_SIGN_UPS_ADDRESS:-10000/3600}"
export RATE_SIGN_INS_ADDRESS="${RATE_SIGN_INS_ADDRESS:-10000/900}"
export RATE_GEOCODING_ADDRESS="${RATE_GEOCODING_ADDRESS:-10000/3600}"
cd "$ROOT"

if listening "$WATCH_PORT"; then
    say "something already answers on port $WATCH_PORT: OC Pizza is probably running already"
    echo "    menu: http://localhost:$WATCH_PORT/lambda-url/menu/pizzerias/1/menu"
    exit 0
fi

need_rust
need_python_tools
need_database
trap 'stop_started' EXIT
trap 'exit 130' INT TERM
need_sqs
need_stripe
need_smtp

say "building the admin tool and the event source poller"
cargo build --quiet -p ocpizza --bin ocpizza-admin -p event-source
admin migrate
admin seed
admin queues
need_photos_bucket

# localstripe signs its payment_intent.* webhooks with the local secret and
# posts them to the stripe-webhook function, as Stripe would.
"$VENV/bin/python" - <<PY
import urllib.parse, urllib.request
data = urllib.parse.urlencode([
    ("url", "http://127.0.0.1:$WATCH_PORT/lambda-url/stripe-webhook/"),
    ("secret", "$STRIPE_WEBHOOK_SECRET"),
    ("events[]", "payment_intent.succeeded"),
    ("events[]", "payment_intent.payment_failed"),
    ("events[]", "payment_intent.canceled"),
]).encode()
urllib.request.urlopen("$STRIPE_API_BASE/_config/webhooks/ocpizza", data, timeout=5).read()
print("localstripe webhooks → stripe-webhook")
PY

# The schedules of infra/template.yaml, locally: the outbox relay, the expiry
# sweep and the notifier every 10 seconds, invoked through cargo lambda like
# EventBridge.
(
    sleep 20
    while true; do
        cargo lambda invoke outbox-relay --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --data-ascii '{}' >>"$RUN_DIR/schedules.log" 2>&1 || true
        cargo lambda invoke expiry-sweep --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --data-ascii '{}' >>"$RUN_DIR/schedules.log" 2>&1 || true
        cargo lambda invoke notifier --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --data-ascii '{}' >>"$RUN_DIR/schedules.log" 2>&1 || true
        sleep 10
    done
) &
echo $! >"$RUN_DIR/schedules.pid"
STARTED+=(schedules)

# The SQS event source mappings of infra/template.yaml, locally: the kitchen
# and delivery queues feed their functions, invoked through cargo lambda
# watch with batches and partial failures (infra/local/event-source).
LAMBDA_INVOKE_URL="http://127.0.0.1:$WATCH_PORT" setsid cargo run --quiet -p event-source >"$RUN_DIR/event-source.log" 2>&1 &
echo $! >"$RUN_DIR/event-source.pid"
STARTED+=(event-source)

cat <<MSG

OC Pizza is starting (functions compile on their first request).

  The shop             http://localhost:$WATCH_PORT/lambda-url/storefront/
  Staff screens        http://localhost:$WATCH_PORT/lambda-url/storefront/account.html  (sign in: see below)

  Menu of pizzeria 1   http://localhost:$WATCH_PORT/lambda-url/menu/pizzerias/1/menu
  All pizzerias        http://localhost:$WATCH_PORT/lambda-url/menu/pizzerias
  Place an order       POST http://localhost:$WATCH_PORT/lambda-url/checkout/orders
                       (example body: events/checkout-cash-delivery.json)
  Follow it            http://localhost:$WATCH_PORT/lambda-url/orders/orders/ID?token=T
  Kitchen display      http://localhost:$WATCH_PORT/lambda-url/kitchen/pizzerias/1/tickets  (pizzaiolo token)
  Courier's run        http://localhost:$WATCH_PORT/lambda-url/delivery/deliveries  (courier token)
  Geocode an address   http://localhost:$WATCH_PORT/lambda-url/geocode/geocode?address=...
  Sign in              POST http://localhost:$WATCH_PORT/lambda-url/accounts/sessions
                       {"email":"pizzaiolo.1@ocpizza.test","password":"ocpizza-demo"} → a bearer token
  Back office          http://localhost:$WATCH_PORT/lambda-url/backoffice/pizzerias/1/stock  (manager token)
  A product's photo    PUT http://localhost:$WATCH_PORT/lambda-url/photos/products/ID/photo  (admin token;
                       the picture as the body, Content-Type image/jpeg|png|webp)
  Any function F       http://localhost:$WATCH_PORT/lambda-url/F/...

  Database   $DATABASE_URL
  SQS        $AWS_ENDPOINT_URL  (queues ocpizza-kitchen, ocpizza-delivery and their -dlq;
             the poller's log: .run/event-source.log)
  Photos     $PHOTOS_URL  (bucket $PHOTOS_BUCKET on the same server: S3)
  Stripe     $STRIPE_API_BASE  (localstripe)
  E-mail     $SMTP_URL  (aiosmtpd; every e-mail lands in $MAILDIR/new)

  A token for scripts: cargo run -q -p ocpizza --bin ocpizza-admin -- token pizzaiolo.1@ocpizza.test

  Demo accounts (password: ocpizza-demo)
    admin@ocpizza.test
    manager.N@ocpizza.test  cashier.N@ocpizza.test  pizzaiolo.N@ocpizza.test
    courier.N@ocpizza.test  (N = pizzeria 1..8)   client.1@ocpizza.test .. client.5

Ctrl-C stops everything this command started.
MSG

# Not exec: the EXIT trap must run to stop the services started above.
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" ${WATCH_FLAGS:-}

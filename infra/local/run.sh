#!/usr/bin/env bash
# `make run`: the whole system on this machine, on demo data.
source "$(dirname "$0")/common.sh"
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

say "building the admin tool"
cargo build --quiet -p ocpizza --bin ocpizza-admin
admin migrate
admin seed
admin queues

cat <<MSG

OC Pizza is starting (functions compile on their first request).

  Menu of pizzeria 1   http://localhost:$WATCH_PORT/lambda-url/menu/pizzerias/1/menu
  All pizzerias        http://localhost:$WATCH_PORT/lambda-url/menu/pizzerias
  Any function F       http://localhost:$WATCH_PORT/lambda-url/F/...

  Database   $DATABASE_URL
  SQS        $AWS_ENDPOINT_URL  (queues ocpizza-kitchen, ocpizza-delivery and their -dlq)
  Stripe     $STRIPE_API_BASE  (localstripe)

  Demo accounts (password: ocpizza-demo)
    admin@ocpizza.test
    manager.N@ocpizza.test  cashier.N@ocpizza.test  pizzaiolo.N@ocpizza.test
    courier.N@ocpizza.test  (N = pizzeria 1..8)   client.1@ocpizza.test .. client.5

Ctrl-C stops everything this command started.
MSG

# Not exec: the EXIT trap must run to stop the services started above.
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT"

#!/usr/bin/env bash
# Smoke test: the path a customer takes, against any deployment.
#   infra/smoke.sh [BASE]      BASE defaults to http://localhost:9000/lambda-url
# Each function answers under BASE/<function>/… (locally `make run`'s
# cargo lambda watch; in production the domain in front of the function URLs).
# It reads the pizzerias and a menu, places a cash pickup order, follows it,
# sees it on the kitchen display when staff credentials are given
# (SMOKE_STAFF_EMAIL / SMOKE_STAFF_PASSWORD; the demo pizzaiolo locally), and
# cancels it, so a smoke test leaves no order to cook and no stock reserved.
set -euo pipefail
BASE="${1:-${SMOKE_BASE:-http://localhost:9000/lambda-url}}"
BASE="${BASE%/}"
PIZZERIA="${SMOKE_PIZZERIA:-1}"
STAFF_EMAIL="${SMOKE_STAFF_EMAIL-pizzaiolo.$PIZZERIA@ocpizza.test}"
STAFF_PASSWORD="${SMOKE_STAFF_PASSWORD-ocpizza-demo}"

step() { printf '  %-44s' "$1"; }
ok() { printf 'ok  %s\n' "$*"; }
fail() { printf 'FAILED\n%s\n' "$*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
call() { # method url [body] [extra curl args...] → body in $OUT, status in $CODE
    local method=$1 url=$2 body=${3:-}
    shift 3 || shift $#
    local args=(-sS -o /tmp/smoke.$$ -w '%{http_code}' -X "$method" --max-time 300 "$@")
    [[ -n "$body" ]] && args+=(-H 'content-type: application/json' --data "$body")
    CODE=$(curl "${args[@]}" "$url") || fail "$method $url: no answer"
    OUT=$(cat /tmp/smoke.$$)
}
trap 'rm -f /tmp/smoke.$$' EXIT

echo "smoke test against $BASE"
step "menu: the pizzerias"
call GET "$BASE/menu/pizzerias"
[[ $CODE == 200 ]] || fail "$CODE $OUT"
ok "$(echo "$OUT" | json 'len(d["pizzerias"])') pizzerias"

step "menu: pizzeria $PIZZERIA"
call GET "$BASE/menu/pizzerias/$PIZZERIA/menu"
[[ $CODE == 200 ]] || fail "$CODE $OUT"
PRODUCT=$(echo "$OUT" | json '[p["id"] for p in d["products"] if p["available"] and p["category"].lower().startswith("pizza")][0]')
ok "product $PRODUCT available"

step "checkout: a cash pickup order"
ORDER='{"pizzeria_id":'$PIZZERIA',"fulfilment":"pickup","payment_method":"cash","lines":[{"product_id":'$PRODUCT',"quantity":1}],"contact":{"name":"Smoke Test","phone":"0600000000"}}'
call POST "$BASE/checkout/orders" "$ORDER" -H "idempotency-key: smoke-$(date +%s)-$$"
[[ $CODE == 201 ]] || fail "$CODE $OUT"
ID=$(echo "$OUT" | json 'd["order"]["id"]')
TOKEN=$(echo "$OUT" | json 'd["order"]["tracking_token"]')
ok "order $ID, $(echo "$OUT" | json 'd["order"]["status"]')"

step "orders: follow it with its token"
call GET "$BASE/orders/orders/$ID?token=$TOKEN"
[[ $CODE == 200 ]] || fail "$CODE $OUT"
ok "$(echo "$OUT" | json 'd["order"]["status"]')"

if [[ -n "$STAFF_EMAIL" ]]; then
    step "kitchen: the ticket on the display"
    call POST "$BASE/accounts/sessions" '{"email":"'"$STAFF_EMAIL"'","password":"'"$STAFF_PASSWORD"'"}'
    [[ $CODE == 200 ]] || fail "sign-in: $CODE $OUT"
    STAFF=$(echo "$OUT" | json 'd["token"]')
    for _ in $(seq 1 60); do
        call GET "$BASE/kitchen/pizzerias/$PIZZERIA/tickets" "" -H "authorization: Bearer $STAFF"
        [[ $CODE == 200 ]] || fail "$CODE $OUT"
        if echo "$OUT" | json "any(t['order_id'] == $ID for t in d['tickets'])" | grep -q True; then
            break
        fi
        sleep 1
    done
    echo "$OUT" | json "any(t['order_id'] == $ID for t in d['tickets'])" | grep -q True ||
        fail "the ticket did not reach the display in 60 s"
    ok "through the queue"
fi

step "orders: cancel it"
call POST "$BASE/orders/orders/$ID/cancel?token=$TOKEN"
[[ $CODE == 200 ]] || fail "$CODE $OUT"
ok "$(echo "$OUT" | json 'd["order"]["status"]')"
echo "smoke test passed"

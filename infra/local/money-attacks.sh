#!/usr/bin/env bash
# The money attacks, tried from outside over HTTP against `make run` (local
# only: it pays with localstripe's test cards and signs webhooks with the
# local endpoint secret). Each must fail:
#   1. pay for 2 pizzas, raise the order to 20, and have the kitchen start it;
#   2. two reductions sent at the same moment, refunded twice;
#   3. a signed payment_intent.succeeded in dollars or for 1 cent placing it;
#   4. a cashier placing an unpaid card order; a change below the minimum.
#   infra/local/money-attacks.sh [BASE]   (CI runs it after infra/smoke.sh)
set -euo pipefail
BASE="${1:-http://localhost:9000/lambda-url}"
BASE="${BASE%/}"
STRIPE="${STRIPE_API_BASE:-http://127.0.0.1:8420}"
WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_local}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

step() { printf '  %-62s' "$1"; }
ok() { printf 'ok  %s\n' "$*"; }
fail() { printf 'FAILED\n%s\n' "$*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
call() { # method url [body] [extra curl args...] → body in $OUT, status in $CODE
    local method=$1 url=$2 body=${3:-}
    shift 3 || shift $#
    local out="$TMP/out.$BASHPID"
    local args=(-sS -o "$out" -w '%{http_code}' -X "$method" --max-time 120 "$@")
    [[ -n "$body" ]] && args+=(-H 'content-type: application/json' --data "$body")
    CODE=$(curl "${args[@]}" "$url") || fail "$method $url: no answer"
    OUT=$(cat "$out")
}
sign_in() {
    call POST "$BASE/accounts/sessions" '{"email":"'"$1"'","password":"ocpizza-demo"}'
    [[ $CODE == 200 ]] || fail "sign-in $1: $CODE $OUT"
    echo "$OUT" | json 'd["token"]'
}
card_order() { # fulfilment quantity → ID TOKEN TOTAL INTENT
    local address=''
    [[ $1 == delivery ]] && address=',"address":{"line1":"25 rue Victor Hugo","postcode":"69002","city":"Lyon"}'
    call POST "$BASE/checkout/orders" '{"pizzeria_id":1,"fulfilment":"'"$1"'","payment_method":"card","lines":[{"product_id":1,"quantity":'"$2"'}],"contact":{"name":"Attaque Test","phone":"061'"$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"'","email":"attaque@example.fr"}'"$address"'}' \
        -H "idempotency-key: attack-$(date +%s%N)-$RANDOM"
    [[ $CODE == 201 ]] || fail "checkout: $CODE $OUT"
    ID=$(echo "$OUT" | json 'd["order"]["id"]')
    TOKEN=$(echo "$OUT" | json 'd["order"]["tracking_token"]')
    TOTAL=$(echo "$OUT" | json 'd["order"]["total_cents"]')
    INTENT=$(echo "$OUT" | json 'd["payment"]["payment_intent_id"]')
}
status_of() {
    call GET "$BASE/orders/orders/$1?token=$2"
    [[ $CODE == 200 ]] || fail "follow $1: $CODE $OUT"
    echo "$OUT" | json 'd["order"]["status"]'
}
pay() { # id token: a card token from Stripe.js's stand-in, then payment/card, until placed
    local tok
    tok=$(curl -sS -X POST "$STRIPE/v1/tokens" -d 'card[number]=4242424242424242' -d 'card[exp_month]=12' \
        -d 'card[exp_year]=2035' -d 'card[cvc]=123' -d 'key=pk_test_local' | json 'd["id"]')
    call POST "$BASE/orders/orders/$1/payment/card?token=$2" '{"card_token":"'"$tok"'"}'
    [[ $CODE == 200 ]] || fail "pay $1: $CODE $OUT"
    for _ in $(seq 1 30); do
        [[ $(status_of "$1" "$2") == placed ]] && return 0
        call POST "$BASE/orders/orders/$1/payment/refresh?token=$2"
        sleep 1
    done
    fail "order $1 not placed after paying"
}
patch() { # id token quantity
    call PATCH "$BASE/orders/orders/$1?token=$2" '{"lines":[{"product_id":1,"quantity":'"$3"'}]}'
}
signed_event() { # json payload → posts it signed as Stripe does
    local t sig
    t=$(date +%s)
    sig=$(python3 -c 'import hashlib, hmac, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' \
        "$WEBHOOK_SECRET" "$t.$1")
    call POST "$BASE/stripe-webhook/" "$1" -H "stripe-signature: t=$t,v1=$sig"
}

echo "money attacks against $BASE"
CHEF=$(sign_in pizzaiolo.1@ocpizza.test)
CASHIER=$(sign_in cashier.1@ocpizza.test)

step "1. pay 2 pizzas, raise to 20, start it in the kitchen"
card_order delivery 2
pay "$ID" "$TOKEN"
patch "$ID" "$TOKEN" 20
[[ $CODE == 200 ]] || fail "raise: $CODE $OUT"
[[ $(echo "$OUT" | json 'd["order"]["status"]') == pending_payment ]] || fail "raised order not waiting: $OUT"
DUE=$(echo "$OUT" | json 'd["order"]["payment"]["balance_cents"]')
call POST "$BASE/kitchen/tickets/$ID/start" "" -H "authorization: Bearer $CHEF"
[[ $CODE == 409 ]] || fail "kitchen start of an order owing $DUE cents: $CODE $OUT"
ok "refused (409), $DUE cents to pay first"

step "   the difference paid, the kitchen may start"
pay "$ID" "$TOKEN"
call POST "$BASE/kitchen/tickets/$ID/start" "" -H "authorization: Bearer $CHEF"
[[ $CODE == 200 ]] || fail "start after paying: $CODE $OUT"
ok "started"

step "2. two reductions at the same moment (6 → 1 and 6 → 2)"
card_order pickup 6
pay "$ID" "$TOKEN"
PAID=$TOTAL
( patch "$ID" "$TOKEN" 1; echo "$CODE" >"$TMP/a" ) &
( patch "$ID" "$TOKEN" 2; echo "$CODE" >"$TMP/b" ) &
wait
[[ $(cat "$TMP/a") == 200 && $(cat "$TMP/b") == 200 ]] || fail "reductions: $(cat "$TMP/a") $(cat "$TMP/b")"
call GET "$BASE/orders/orders/$ID?token=$TOKEN"
read -r NOW REFUNDED STATUS < <(echo "$OUT" | json '"%s %s %s" % (d["order"]["total_cents"], d["order"]["payment"]["refunded_cents"], d["order"]["status"])')
AT_STRIPE=$(curl -sS -u "${STRIPE_SECRET_KEY:-sk_test_local}:" "$STRIPE/v1/refunds?payment_intent=$INTENT&limit=100" |
    json "sum(r['amount'] for r in d['data'] if r.get('payment_intent') == '$INTENT')")
(( PAID - REFUNDED <= NOW )) || fail "refunded $REFUNDED of $PAID for a total of $NOW"
[[ $STATUS == placed ]] && (( PAID - REFUNDED != NOW )) && fail "placed with $((PAID - REFUNDED)) kept of $NOW"
(( AT_STRIPE == REFUNDED )) || fail "Stripe refunded $AT_STRIPE, we recorded $REFUNDED"
ok "refunded $REFUNDED of $PAID once (Stripe: $AT_STRIPE), $STATUS at $NOW"

for variant in usd one-cent; do
    step "3. a signed payment_intent.succeeded, $variant"
    card_order pickup 2
    CURRENCY=eur RECEIVED=$TOTAL
    [[ $variant == usd ]] && CURRENCY=usd
    [[ $variant == one-cent ]] && RECEIVED=1
    signed_event '{"id":"evt_attack_'"$ID"'","object":"event","api_version":"2024-06-20","created":'"$(date +%s)"',"type":"payment_intent.succeeded","data":{"object":{"id":"'"$INTENT"'","object":"payment_intent","amount":'"$TOTAL"',"amount_received":'"$RECEIVED"',"currency":"'"$CURRENCY"'","status":"succeeded","latest_charge":"ch_attack","metadata":{"order_id":"'"$ID"'"}}}}'
    [[ $CODE == 200 ]] || fail "webhook: $CODE $OUT"
    [[ $(status_of "$ID" "$TOKEN") == pending_payment ]] || fail "a $variant payment placed order $ID"
    ok "not placed"
done

step "4. a cashier places an unpaid card order by hand"
card_order pickup 2
call POST "$BASE/orders/orders/$ID/status" '{"status":"placed"}' -H "authorization: Bearer $CASHIER"
[[ $CODE == 409 ]] || fail "cashier placed it: $CODE $OUT"
[[ $(status_of "$ID" "$TOKEN") == pending_payment ]] || fail "order $ID moved"
ok "refused (409)"

step "   a delivery order changed below the minimum"
card_order delivery 2
patch "$ID" "$TOKEN" 1
[[ $CODE == 422 ]] || fail "below the minimum: $CODE $OUT"
ok "refused (422 $(echo "$OUT" | json 'd["type"].rsplit("/", 1)[-1]'))"
echo "money attacks all refused"

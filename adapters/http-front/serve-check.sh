#!/usr/bin/env bash
# Builds the HTTP front, composes it with the unchanged Ivanti component into
# one wasi:http/proxy component, serves it with `jco serve` (a host this
# project did not write, pinned in package-lock.json), and checks real
# requests against the simulated tenant (ivanti-sim): info, validate,
# create (and its warning when a value is cut to its MaxLength), update
# (given the create's answer as its task), an all-deleted sync, bad inputs
# (400), bad credentials (401, password not echoed), an unreachable tenant
# (502), and a rate limit (429 with Retry-After).
#
# Exits non-zero on any failure. Needs: cargo (wasm32-wasip2), node >= 18,
# npm, curl, jq.
#
# Hosts: jco always; wasmtime too when `wasmtime` is on PATH (or WASMTIME=path;
# install-hosts.sh installs it with WITH_WASMTIME=1). HOSTS="jco wasmtime"
# picks explicitly.
#
# Overrides: IVANTI_WASM (a built Ivanti component), SIM_BIN (a built
# ivanti-sim), TARGET_DIR (where the root workspace builds; default its own
# target/), CARGO_TARGET_DIR (where the front and the composer build; default
# each its own target/), KEEP=1 (leave the servers running for poking).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${TARGET_DIR:-$ROOT/target}"
FRONT_TARGET="${CARGO_TARGET_DIR:-$HERE/target}"
COMPOSE_TARGET="${CARGO_TARGET_DIR:-$HERE/../compose/target}"
BUILD="$HERE/build"
mkdir -p "$BUILD"

for tool in cargo node npm curl jq; do
    command -v "$tool" >/dev/null || { echo "serve-check: $tool is missing" >&2; exit 2; }
done

step() { printf '\n== %s\n' "$*"; }

# --- build ---------------------------------------------------------------
step "build: Ivanti component (unchanged), simulator, front, composition"
if [ -z "${IVANTI_WASM:-}" ]; then
    cargo build --manifest-path "$ROOT/Cargo.toml" -p ivanti-plugin --target wasm32-wasip2 \
        --profile component --target-dir "$TARGET_DIR" -q
    IVANTI_WASM="$TARGET_DIR/wasm32-wasip2/component/ivanti_plugin.wasm"
fi
if [ -z "${SIM_BIN:-}" ]; then
    cargo build --manifest-path "$ROOT/Cargo.toml" -p ivanti-sim --target-dir "$TARGET_DIR" -q
    SIM_BIN="$TARGET_DIR/debug/ivanti-sim"
fi
cargo build --manifest-path "$HERE/Cargo.toml" --target wasm32-wasip2 --release -q \
    --target-dir "$FRONT_TARGET"
FRONT_WASM="$FRONT_TARGET/wasm32-wasip2/release/ivanti_http_front.wasm"
cargo build --manifest-path "$HERE/../compose/Cargo.toml" --release -q --target-dir "$COMPOSE_TARGET"
COMPOSED="$BUILD/ivanti-http.wasm"
"$COMPOSE_TARGET/release/http-front-compose" "$FRONT_WASM" "$IVANTI_WASM" "$COMPOSED"

step "install the hosts (install-hosts.sh)"
"$HERE/install-hosts.sh"
JCO="$HERE/node_modules/.bin/jco"
WASMTIME="${WASMTIME:-$(command -v wasmtime || true)}"
if [ -z "${HOSTS:-}" ]; then
    HOSTS="jco"
    [ -n "$WASMTIME" ] && HOSTS="jco wasmtime"
fi
echo "hosts: $HOSTS"

# --- servers -------------------------------------------------------------
PIDS=()
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "KEEP=1: servers left running (pids ${PIDS[*]:-})"
        return
    fi
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] || continue
        kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || :
    done
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

step "start ivanti-sim"
SIM_LOG="$BUILD/sim.log"
setsid "$SIM_BIN" --port 0 >"$SIM_LOG" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do grep -q 'listening on' "$SIM_LOG" && break; sleep 0.1; done
SIM_URL="$(grep -o 'http://127.0.0.1:[0-9]*' "$SIM_LOG" | head -1)"
[ -n "$SIM_URL" ] || { echo "ivanti-sim did not start:"; cat "$SIM_LOG"; exit 1; }
echo "tenant: $SIM_URL"

# start_host jco|wasmtime: serves the composed component, sets FRONT and HOST_PID
start_host() {
    local host="$1" port log
    port="$(free_port)"
    log="$BUILD/$host.log"
    case "$host" in
        jco) setsid "$JCO" serve --port "$port" --host 127.0.0.1 "$COMPOSED" >"$log" 2>&1 & ;;
        wasmtime)
            [ -n "$WASMTIME" ] || { echo "wasmtime not found (install-hosts.sh with WITH_WASMTIME=1)"; exit 1; }
            setsid "$WASMTIME" serve -Scli --addr "127.0.0.1:$port" "$COMPOSED" >"$log" 2>&1 & ;;
        *) echo "unknown host $host"; exit 2 ;;
    esac
    HOST_PID=$!
    PIDS+=("$HOST_PID")
    FRONT="http://127.0.0.1:$port"
    for _ in $(seq 1 120); do curl -sf "$FRONT/info" >/dev/null 2>&1 && break; sleep 0.5; done
    curl -sf "$FRONT/info" >/dev/null || { echo "$host serve did not answer:"; cat "$log"; exit 1; }
    echo "front: $FRONT ($host)"
}
stop_host() { kill -- "-$HOST_PID" 2>/dev/null || kill "$HOST_PID" 2>/dev/null || :; }

# --- checks --------------------------------------------------------------
FAILS=0
OUT="$BUILD/answer.json"
HDR="$BUILD/answer.headers"

# call NAME METHOD PATH [BODY] -> status in $STATUS, body in $OUT
call() {
    local name="$1" method="$2" path="$3" body="${4:-}"
    if [ -n "$body" ]; then
        STATUS="$(curl -s -o "$OUT" -D "$HDR" -w '%{http_code}' -X "$method" "$FRONT$path" \
            -H 'content-type: application/json' --data-binary "$body")"
    else
        STATUS="$(curl -s -o "$OUT" -D "$HDR" -w '%{http_code}' -X "$method" "$FRONT$path")"
    fi
    printf '%-40s %s %s -> %s %s\n' "$name" "$method" "$path" "$STATUS" "$(head -c 200 "$OUT")"
}
expect() { # expect DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@"; then echo "   ok: $what"; else echo "   FAIL: $what"; FAILS=$((FAILS + 1)); fi
}
status_is() { [ "$STATUS" = "$1" ]; }
jq_true() { jq -e "$1" "$OUT" >/dev/null 2>&1; }
body_lacks() { ! grep -qF -- "$1" "$OUT" && ! grep -qiF -- "$1" "$HDR"; }

PASSWORD='Netskope#2024'
CFG="$(jq -nc --arg url "$SIM_URL" --arg pw "$PASSWORD" '{
  auth: {tenant_url: $url, authentication_method: "basic_auth",
         employee_rec_id: "F7177FFB09B44D159B1ADE379A5D1BC7"},
  params: {username: "gjenkins@netskope.com", password: $pw, user_role: "NetskopeCTO"}}')"
BAD_PW='Wrong&Pass word"9'
BAD_CFG="$(jq -nc --argjson c "$CFG" --arg pw "$BAD_PW" '$c | .params.password = $pw')"
alert() { jq -nc --arg id "$1" '{id: $id, alertName: "DLP upload", alertType: "dlp", app: "Box",
  appCategory: "Cloud Storage", user: "jane@example.com", type: "alert", timestamp: 1700000000,
  rawData: {severity: "high"}}'; }
VALUES='[["Subject","Netskope Cloud Storage alert: DLP upload"],["Symptom","Alert ID: a-1"],["Status","Logged"]]'

checks() {
call "info" GET /info
expect "200 with the plugin's steps" status_is 200
expect "names the plugin" jq_true '.info.name | length > 0'
QUEUE="$(jq -r '.queues[0].value // ""' "$OUT")"

call "validate" POST /validate "{\"config\":$CFG}"
expect "200 valid" status_is 200
expect "valid: true" jq_true '.valid == true'

call "fields" POST /fields "{\"config\":$CFG}"
expect "200, the tenant's incident fields" jq_true 'length > 0 and any(.[]; .name == "Subject")'

call "create" POST /create "$(jq -nc --argjson c "$CFG" --argjson a "$(alert a-1)" --argjson v "$VALUES" --arg q "$QUEUE" \
    '{config: $c, alert: $a, values: $v, queue: $q}')"
expect "200" status_is 200
expect "a task: id <number>|<RecId>, state new" jq_true '(.id | test("^[0-9]+\\|[0-9A-F]{32}$")) and .state == "new" and .status == "Logged"'
expect "password not echoed" body_lacks "$PASSWORD"
TASK1="$(cat "$OUT")"
expect "no warnings" jq_true '.warnings == []'

LONG_VALUES="$(jq -nc --argjson v "$VALUES" '$v | .[0][1] += (" " + ("x" * 300))')"
call "create (Subject past its MaxLength)" POST /create "$(jq -nc --argjson c "$CFG" --argjson a "$(alert a-long)" --argjson v "$LONG_VALUES" --arg q "$QUEUE" \
    '{config: $c, alert: $a, values: $v, queue: $q}')"
expect "200" status_is 200
expect "one warning, naming Subject and its MaxLength" jq_true '(.warnings | length) == 1 and .warnings[0].field == "Subject" and (.warnings[0].message | test("cut to 255"))'

call "update" POST /update "$(jq -nc --argjson c "$CFG" --argjson t "$TASK1" --argjson a "$(alert a-1)" \
    '{config: $c, task: $t, alert: $a, values: [["NewNotes", "Received the alert again"]]}')"
expect "200" status_is 200
expect "the same task id" jq_true ".id == $(jq -c .id <<<"$TASK1")"
NUM1="$(jq -r '.id | split("|")[0]' <<<"$TASK1")"
NOTES="$(curl -s "$SIM_URL/_sim/incidents/$NUM1")"
expect "the tenant has the note" grep -q 'Received the alert again' <<<"$NOTES"

call "create (second)" POST /create "$(jq -nc --argjson c "$CFG" --argjson a "$(alert a-2)" --argjson v "$VALUES" --arg q "$QUEUE" \
    '{config: $c, alert: $a, values: $v, queue: $q}')"
expect "200" status_is 200
TASK2="$(cat "$OUT")"
NUM2="$(jq -r '.id | split("|")[0]' <<<"$TASK2")"

call "sync (both live)" POST /sync "$(jq -nc --argjson c "$CFG" --argjson a "$TASK1" --argjson b "$TASK2" '{config: $c, tasks: [$a, $b]}')"
expect "200, two tasks, none deleted" jq_true 'length == 2 and all(.[]; .state != "deleted")'

for n in "$NUM1" "$NUM2"; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$SIM_URL/_sim/incidents/$n")"
    echo "   tenant: DELETE /_sim/incidents/$n -> $code"
done
call "sync (all deleted)" POST /sync "$(jq -nc --argjson c "$CFG" --argjson a "$TASK1" --argjson b "$TASK2" '{config: $c, tasks: [$a, $b]}')"
expect "200" status_is 200
expect "both tasks come back deleted, in order" jq_true "length == 2 and all(.[]; .state == \"deleted\") and .[0].id == $(jq -c .id <<<"$TASK1") and .[1].id == $(jq -c .id <<<"$TASK2")"

call "bad input: create without an alert" POST /create "{\"config\":$CFG,\"values\":[]}"
expect "400 invalid-input naming alert" jq_true '.error.kind == "invalid-input" and .error.field == "alert"'
expect "status 400" status_is 400
expect "password not echoed" body_lacks "$PASSWORD"

call "bad input: not JSON" POST /create '{"config": nope'
expect "400 invalid-input" status_is 400
expect "kind invalid-input" jq_true '.error.kind == "invalid-input"'

call "bad input: a step that is not an object" POST /validate "{\"config\":{\"params\":\"$PASSWORD\"}}"
expect "400" status_is 400
expect "the value is not quoted back" body_lacks "$PASSWORD"

call "bad input: alert without timestamp" POST /create "$(jq -nc --argjson c "$CFG" '{config: $c, alert: {id: "x"}, values: []}')"
expect "400" status_is 400

call "bad configuration: no tenant_url" POST /validate "$(jq -nc --argjson c "$CFG" '{config: ($c | del(.auth.tenant_url))}')"
expect "400 invalid-configuration" jq_true '.error.kind == "invalid-configuration"'
expect "status 400" status_is 400

call "wrong password" POST /validate "{\"config\":$BAD_CFG}"
expect "401 unauthorized" status_is 401
expect "the wrong password is not echoed (raw)" body_lacks "$BAD_PW"
expect "... nor JSON-escaped" body_lacks 'Wrong&Pass word\"9'
expect "... nor percent-encoded" body_lacks 'Wrong%26Pass'

DEAD_URL="http://127.0.0.1:$(free_port)"
call "tenant unreachable" POST /validate "$(jq -nc --argjson c "$CFG" --arg u "$DEAD_URL" '{config: ($c | .auth.tenant_url = $u)}')"
expect "502 transport" jq_true '.error.kind == "transport"'
expect "status 502" status_is 502

curl -s -X PUT "$SIM_URL/_sim/faults" -d '{"rate_limit_next":50,"retry_after_secs":1,"only":"create"}' >/dev/null
call "rate limited" POST /create "$(jq -nc --argjson c "$CFG" --argjson a "$(alert a-3)" --argjson v "$VALUES" --arg q "$QUEUE" \
    '{config: ($c | .auth.retry_wait_seconds = 1), alert: $a, values: $v, queue: $q}')"
curl -s -X DELETE "$SIM_URL/_sim/faults" >/dev/null
expect "429" status_is 429
expect "Retry-After header" grep -qi '^retry-after: [0-9]' "$HDR"

call "unknown route" GET /nope
expect "404" status_is 404
call "wrong method" GET /create
expect "405" status_is 405
}

for host in $HOSTS; do
    step "$host serve the composed component"
    start_host "$host"
    step "checks under $host"
    checks
    stop_host
done

echo
if [ "$FAILS" -ne 0 ]; then
    echo "serve-check: $FAILS check(s) FAILED (logs in $BUILD)"
    exit 1
fi
echo "serve-check: all checks passed under: $HOSTS (jco $("$JCO" --version)${WASMTIME:+, $("$WASMTIME" --version)})"

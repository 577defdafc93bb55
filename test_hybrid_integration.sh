#!/usr/bin/env bash
# End-to-end check of the hybrid stack, against a RUNNING stack (`make run`: API :8000, Dagster :3000,
# sandboxes). Health; a token; trigger case 1295022 through Dagster; poll its status until complete
# (bounded); check the counts in bronze, silver and gold; trigger the sandbox's 403 case (4000403) and
# check the plain error. Exits non-zero on the first failure.
#
#   ./test_hybrid_integration.sh            API_URL=http://127.0.0.1:8000 POLL_TIMEOUT=180 to override
set -euo pipefail

API_URL="${API_URL:-http://127.0.0.1:8000}"
POLL_TIMEOUT="${POLL_TIMEOUT:-180}"
CASE_ID="${CASE_ID:-1295022}"
FAULT_CASE="${FAULT_CASE:-4000403}"
ROOT="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

# 1. health (open)
curl -fsS "$API_URL/health" >/dev/null || fail "API not answering at $API_URL/health (is 'make run' up?)"
ready=$(curl -sS "$API_URL/readyz")
[ "$(echo "$ready" | json "d['database']")" = "ok" ] || fail "database not ready: $ready"
ok "health: $(echo "$ready" | json "d['detail']")"

# 2. a token (signed with SUPABASE_JWT_SECRET, like Supabase's)
TOKEN="$(cd "$ROOT" && "$PY" -m backend.app.security)" || fail "could not make a token"
AUTH=(-H "Authorization: Bearer $TOKEN")
code=$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/api/cases")
[ "$code" = "401" ] || fail "/api/cases without a token answered $code, expected 401"
ok "sign-in enforced (401 without a token)"

dagster=$(curl -sS "${AUTH[@]}" "$API_URL/api/dagster/health" || true)
[ "$(echo "$dagster" | json "d.get('reachable')")" = "True" ] || fail "Dagster not reachable: $dagster"
ok "Dagster reachable ($(echo "$dagster" | json "d.get('version')"))"

# 3. trigger case 1295022 (force: a fresh run even if the case was extracted before)
trigger=$(curl -fsS -X POST "${AUTH[@]}" "$API_URL/api/dagster/cases/$CASE_ID/extract?force=true") \
  || fail "trigger failed"
[ "$(echo "$trigger" | json "d['status']")" = "triggered" ] || fail "unexpected trigger answer: $trigger"
request_id=$(echo "$trigger" | json "d['request_id']")
ok "triggered case $CASE_ID (request $request_id)"
again=$(curl -fsS -X POST "${AUTH[@]}" "$API_URL/api/dagster/cases/$CASE_ID/extract")
[ "$(echo "$again" | json "d['request_id']")" = "$request_id" ] || fail "a repeated trigger started another request: $again"
ok "repeated trigger returned the same request"

# 4. poll until complete (bounded)
deadline=$((SECONDS + POLL_TIMEOUT))
while :; do
  status_json=$(curl -fsS "${AUTH[@]}" "$API_URL/api/dagster/status/$CASE_ID") || fail "status call failed"
  status=$(echo "$status_json" | json "d['status']")
  echo "     status=$status  $(echo "$status_json" | json "d['message']")"
  case "$status" in
    complete) break ;;
    partial|failed) fail "case $CASE_ID ended $status: $(echo "$status_json" | json "d['errors']")" ;;
  esac
  [ $SECONDS -lt $deadline ] || fail "case $CASE_ID not complete after ${POLL_TIMEOUT}s (last: $status)"
  sleep 3
done
ok "case $CASE_ID complete, run $(echo "$status_json" | json "d['run_id']")"

# 5. counts in each layer
check() { # expression description
  [ "$(echo "$status_json" | json "$1")" = "True" ] || fail "$2: $(echo "$status_json" | json "$3")"
  ok "$2"
}
check "d['bronze']['at'] and d['bronze']['wi'] and d['bronze']['interview']" "bronze: AT, WI, interview stored" "d['bronze']"
check "d['sources']['trt']['state'] in ('no_data', 'stored', 'unchanged')" "bronze: TRT answered (the demo case has none: no_data)" "d['sources']['trt']"
check "d['silver']['tax_years'] > 0 and d['silver']['account_activity'] > 0 and d['silver']['income_documents'] > 0" "silver: tax years, activity, income documents" "d['silver']"
check "d['gold']['employment'] > 0 and d['gold']['household'] > 0" "gold: employment, household" "d['gold']"
years=$(curl -fsS "${AUTH[@]}" "$API_URL/api/cases/$CASE_ID/tax-years")
[ "$(echo "$years" | json "d['count'] > 0 and any(y['assessments'] for y in d['items'])")" = "True" ] \
  || fail "tax years without CSED assessments: $years"
ok "grid: $(echo "$years" | json "d['count']") tax years with CSEDs"
atp=$(curl -fsS "${AUTH[@]}" "$API_URL/api/calculations/$CASE_ID/ability-to-pay") || fail "ability-to-pay failed"
ok "ability to pay: MDI $(echo "$atp" | json "d['monthly_disposable_income']")"

# 6. the 403 case: a plain error, quickly
curl -fsS -X POST "${AUTH[@]}" "$API_URL/api/dagster/cases/$FAULT_CASE/extract?force=true" >/dev/null \
  || fail "trigger of $FAULT_CASE failed"
deadline=$((SECONDS + POLL_TIMEOUT))
while :; do
  fault_json=$(curl -fsS "${AUTH[@]}" "$API_URL/api/dagster/status/$FAULT_CASE")
  fstatus=$(echo "$fault_json" | json "d['status']")
  case "$fstatus" in partial|failed|complete) break ;; esac
  [ $SECONDS -lt $deadline ] || fail "case $FAULT_CASE still $fstatus after ${POLL_TIMEOUT}s"
  sleep 3
done
[ "$fstatus" != "complete" ] || fail "case $FAULT_CASE reported complete despite TiParser 403"
echo "$fault_json" | json "' | '.join(d['errors'])" | grep -q "TiParser API key invalid or expired" \
  || fail "no plain 403 error for $FAULT_CASE: $(echo "$fault_json" | json "d['errors']")"
ok "case $FAULT_CASE: $fstatus, \"$(echo "$fault_json" | json "d['sources']['at']['error']")\""

echo "PASS: hybrid integration"

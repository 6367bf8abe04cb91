#!/usr/bin/env bash
# One borrower's whole loan over HTTP with nothing but bash, curl, sha1sum and coreutils: the
# walk-through of docs/api.md, runnable. Start a server first, with an SMS outbox file and an
# admin token (the demo data gives the products):
#
#   CASHLOAN_SMS_SINK=file:/tmp/cashloan-sms.jsonl \
#   CASHLOAN_ADMIN_TOKEN=walkthrough-admin-token-0123456789abcdef cargo run --release
#
#   scripts/walkthrough.sh [BASE_URL] [OUTBOX] [ADMIN_TOKEN] [MOBILE]
set -euo pipefail

BASE=${1:-http://127.0.0.1:8080}
OUTBOX=${2:-/tmp/cashloan-sms.jsonl}
ADMIN=${3:-walkthrough-admin-token-0123456789abcdef}
MOBILE=${4:-13$(printf '%09d' $(( (RANDOM * 32768 + RANDOM) % 1000000000 )))}
KEY=${CASHLOAN_APP_KEY:-12345678}

# call PATH SESSION MEMBER... : MEMBER is one `"name":value` of the body, written canonically (no
# spaces; an object value with its own members sorted). The members, `nonce` and `timestamp` are
# sorted by name with `sort` (each line starts with its quoted name), joined, signed and sent.
call() {
    local path=$1 session=$2
    shift 2
    local ts nonce body sign
    ts=$(date +%s%3N)
    nonce=$(printf '%08d' $(( (RANDOM * 32768 + RANDOM) % 100000000 )))
    body=$(printf '%s\n' "$@" "\"nonce\":\"$nonce\"" "\"timestamp\":\"$ts\"" | LC_ALL=C sort | paste -sd, -)
    sign=$(printf '%s' "$KEY$ts$nonce{$body}" | sha1sum | cut -d' ' -f1)
    curl -sS "$BASE$path" -H 'Content-Type: application/json' \
        ${session:+-H "Authorization: Bearer $session"} \
        -d "{$body,\"sign\":\"$sign\"}"
}

# The string value of NAME in a JSON text (first occurrence), or its number.
field() {
    sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -1
}

admin() {
    curl -sS -X "$1" "$BASE$2" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}

expect() { # expect CODE ANSWER
    local got
    got=$(printf '%s' "$2" | field responseCode)
    if [ "$got" != "$1" ]; then
        echo "expected $1, got: $2" >&2
        exit 1
    fi
}

step() { printf '\n== %s\n' "$*"; }

step "§7 graphic code"
A=$(call /openApi/getCode "")
echo "$A"; expect 0000 "$A"
CAPTCHA=$(printf '%s' "$A" | field resultSet)

step "§8 SMS code to $MOBILE"
A=$(call /openApi/getSmsCode "" "\"code\":\"$CAPTCHA\"" "\"mobile\":\"$MOBILE\"")
echo "$A"; expect 20001000 "$A"
SMS=$(grep "\"mobile\":\"$MOBILE\"" "$OUTBOX" | tail -1 | field code)

step "§9 check the SMS code (read from the outbox)"
A=$(call /openApi/checkSmsCode "" "\"mobile\":\"$MOBILE\"" "\"smscode\":\"$SMS\"")
echo "$A"; expect 20002006 "$A"

# The app sends passwords DES-encrypted; this server also takes plain text unless
# CASHLOAN_STRICT_PASSWORD_ENCRYPTION is on (docs/api.md, "Passwords").
step "§10 set the password"
A=$(call /openApi/userRegister "" "\"confirmPassword\":\"secret123\"" "\"mobile\":\"$MOBILE\"" "\"password\":\"secret123\"")
echo "$A"; expect 20003000 "$A"

step "§4 log in"
A=$(call /security/login "" "\"appType\":\"1\"" "\"password\":\"secret123\"" "\"token\":\"device-1\"" "\"username\":\"$MOBILE\"")
echo "$A"; expect 90000000 "$A"
S=$(printf '%s' "$A" | field resultSet)

step "§32 real name, §30 bank card, §31 carrier, §34 personal information, §35 a contact"
# An ID number is authenticated for one account only: make a fresh one, with its GB 11643 check
# character (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 → "10X98765432").
ID17=11010119900307$(printf '%03d' $(( RANDOM % 1000 )))
W=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2); SUM=0
for i in $(seq 0 16); do SUM=$(( SUM + ${ID17:i:1} * W[i] )); done
CHECK=10X98765432
ID=$ID17${CHECK:$(( SUM % 11 )):1}
CARD=6217000730005${MOBILE: -6}
A=$(call /appCommonApi/authRealNameInfo "$S" "\"idCardNo\":\"$ID\"" "\"realName\":\"张三\"")
echo "$A"; expect 0000 "$A"
A=$(call /appCommonApi/authUserBankCard "$S" "\"bankCardNo\":\"$CARD\"" "\"mobile\":\"$MOBILE\"")
echo "$A"; expect 0000 "$A"
A=$(call /appCommonApi/authUserMobile "$S")
echo "$A"; expect 0000 "$A"
A=$(call /appCommonApi/savePerfectUserInfo "$S" \
    '"currentPosition":"职员"' '"currentWorkInfo":"某某公司"' '"education":"5"' \
    '"house_address_city":"110100"' '"house_address_county":"110108"' '"house_address_detail":"海淀区某路1号"' \
    '"house_address_province":"110000"' '"industryType":"9"' '"martialStatus":"1"' '"monthIncome":"10000"' \
    '"payrollDay":"10"' '"registry_city":"110100"' '"registry_detail":"东城区某路2号"' '"registry_province":"110000"' \
    '"residenceLength":"04"' '"work_address_city":"110100"' '"work_address_county":"110108"' \
    '"work_address_detail":"海淀区某路3号"' '"work_address_province":"110000"' '"workingHours":"03"')
echo "$A"; expect 0000 "$A"
A=$(call /appCommonApi/saveOrUpdateRelShip "$S" '"operType":"add"' '"phoneNum":"13940460755"' '"realName":"李四"' '"relType":"6"')
echo "$A"; expect 0000 "$A"

step "§19 authentication status"
call /appCommonApi/getAuthenticationStatus "$S"; echo

step "§20 products"
A=$(call /openCommonApi/getLoanProductList "")
echo "$A"; expect 0000 "$A"
# 新现金贷: 500.00 to 5000.00, for 7 or 14 days.
PRODUCT=$(printf '%s' "$A" | grep -o '"id":"[^"]*","name":"新现金贷"' | field id)

step "§22 quote: 1000.00 for 14 days, one payment, 36 % a year"
TERMS=('"amount":"1000.00"' "\"interestRate\":\"0.36\"" "\"productId\":\"$PRODUCT\"" '"repayTermCount":"14"'
    '"repayTermUnit":"1"' '"repayType":"1"' '"termCount":"14"' '"termUnit":"1"')
A=$(call /appCommonApi/getLoanApplyConfirmInfo "$S" "${TERMS[@]}")
echo "$A"; expect 0000 "$A"

step "§23 apply"
A=$(call /appCommonApi/loanProductApply "$S" "${TERMS[@]}" '"latitude":"39.98"' '"longitude":"116.31"' \
    '"orderId":"201701012236523"' '"otherChannels":"01"' \
    '"phonebookList":[{"contactName":"李四","contactPhone":"13940460755"}]' '"purpose":"21"')
echo "$A"; expect 20005000 "$A"
APP=$(printf '%s' "$A" | field resultSet)

step "operator: review, approve, propose the payout (admin API, as the operator system)"
admin POST "/admin/applications/$APP/review"; echo
admin POST "/admin/applications/$APP/approve"; echo
A=$(admin POST "/admin/applications/$APP/disburse")
echo "$A"
PROPOSAL=$(printf '%s' "$A" | field id)

step "a second operator (finance) signs in and confirms the payout (maker-checker)"
CHECKER="finance-$MOBILE"
admin POST /admin/operators "{\"name\":\"$CHECKER\",\"role\":\"finance\",\"password\":\"walkthrough-$MOBILE\"}"; echo
A=$(curl -sS "$BASE/admin/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$CHECKER\",\"password\":\"walkthrough-$MOBILE\"}")
OPERATOR=$(printf '%s' "$A" | field token)
curl -sS -X POST "$BASE/admin/proposals/$PROPOSAL/confirm" -H "Authorization: Bearer $OPERATOR"; echo

step "§28 my loans, §29 the plan"
call /appCommonApi/getLoanApplyInfoList "$S" '"pageNum":1'; echo
A=$(call /appCommonApi/getLoanApplyRepayList "$S" "\"loanProductApplyId\":\"$APP\"" '"pageNum":1')
echo "$A"; expect 0000 "$A"
REPAY=$(printf '%s' "$A" | field repayId)

step "§36 repay the installment"
A=$(call /appCommonApi/gotoRepayment "$S" "\"id\":\"$REPAY\"" '"repayType":"current"')
echo "$A"; expect 0000 "$A"

step "§28 the loan is settled (applyStatus 5); §24 the messages"
A=$(call /appCommonApi/getLoanApplyInfoList "$S" '"pageNum":1')
echo "$A"
[ "$(printf '%s' "$A" | field applyStatus)" = 5 ] || { echo "the loan is not settled" >&2; exit 1; }
call /appCommonApi/getCustomMessage "$S" '"pageNum":1'; echo
echo
echo "done: $MOBILE borrowed 1000.00 and repaid it"

#!/usr/bin/env bash
# dockwright login / logout against Basic (htpasswd) and Bearer (token
# service) registries, with and without a credential helper program: the
# credentials are checked first, stored as Docker stores them, used by a
# push, and removed by logout.  No password ever reaches the output.
. "$(dirname "$0")/lib.sh"
need docker-registry htpasswd openssl jq curl python3 skopeo
start_registry auth auth
start_registry tok token
CFG=$DOCKER_CONFIG/config.json

mkdir -p "$T/ctx"
echo hi > "$T/ctx/f.txt"
printf 'FROM scratch\nCOPY f.txt /f.txt\n' > "$T/ctx/Dockerfile"
"$DW" build -q -t small:1 "$T/ctx" > /dev/null || { echo "not ok - build"; exit 1; }

# nothing may print the password
clean() { ! grep -q "testpass\|wrongpass" "$@"; }

# --- Basic, config.json -----------------------------------------------------
echo '{"psFormat":"table {{.ID}}"}' > "$CFG"
check "login (Basic, --password-stdin)" sh -c "printf 'testpass\n' | '$DW' login --username tester --password-stdin '$REG_auth' > '$T/l1.out' 2> '$T/l1.err'"
check "it says Login Succeeded" grep -qx "Login Succeeded" "$T/l1.out"
check "the entry is Docker's: auths[host].auth = base64(user:password)" \
  jq -e --arg h "$REG_auth" --arg a "$(printf tester:testpass | base64)" '.auths[$h] == {"auth": $a}' "$CFG"
check "other settings are kept" jq -e '.psFormat == "table {{.ID}}"' "$CFG"
check "config.json has mode 0600" test "$(stat -c %a "$CFG")" = 600
check "no password in the output" clean "$T/l1.out" "$T/l1.err"
check "a push uses the stored login" "$DW" push small:1 "$REG_auth/small:1"
check "skopeo agrees the image is there" skopeo inspect --tls-verify=false --creds tester:testpass "docker://$REG_auth/small:1"

cp "$CFG" "$T/before.json"
printf 'wrongpass\n' | "$DW" login -u tester --password-stdin "$REG_auth" > "$T/l2.out" 2> "$T/l2.err" \
  && bad "a wrong password is refused" || ok "a wrong password is refused"
check "one clear error naming the registry" grep -q "login to $REG_auth: registry $REG_auth refused the credentials" "$T/l2.err"
check "nothing stored after a refused login" cmp "$CFG" "$T/before.json"
check "no password in the error" clean "$T/l2.out" "$T/l2.err"

check "--password works, with a warning" sh -c "'$DW' login -u tester --password testpass '$REG_auth' > '$T/l3.out' 2> '$T/l3.err' && grep -q 'WARNING.*insecure' '$T/l3.err'"
check "--password is not echoed" clean "$T/l3.out" "$T/l3.err"
"$DW" login -u tester "$REG_auth" < /dev/null > "$T/l4.out" 2>&1 \
  && bad "no password and no terminal fails" || ok "no password and no terminal fails"
check "and says to use --password-stdin" grep -q -- "--password-stdin" "$T/l4.out"

check "logout" sh -c "'$DW' logout '$REG_auth' > '$T/o1.out'"
check "logout removed the entry, kept the rest" \
  jq -e --arg h "$REG_auth" '(.auths | has($h) | not) and .psFormat == "table {{.ID}}"' "$CFG"
"$DW" push small:1 "$REG_auth/small:2" > "$T/p2.log" 2>&1 \
  && bad "a push after logout is refused" || ok "a push after logout is refused"
check "and the error says how to log in" grep -q "dockwright login $REG_auth" "$T/p2.log"
"$DW" logout "$REG_auth" > "$T/o2.out" 2>&1 && bad "logout twice fails" || ok "logout twice fails"
check "saying it was not logged in" grep -q "not logged in to $REG_auth" "$T/o2.out"

# --- Bearer (token service), config.json ------------------------------------
rm -f "$CFG"
check "login (Bearer)" sh -c "printf testpass | '$DW' login -u tester --password-stdin '$REG_tok' > /dev/null 2>&1"
check "the token service checked the credentials" jq -se 'any(.[]; .authed)' "$TOKEN_LOG_tok"
check "config.json created with mode 0600" test "$(stat -c %a "$CFG")" = 600
check "a push through the token service uses it" "$DW" push small:1 "$REG_tok/small:1"
printf 'wrongpass\n' | "$DW" login -u tester --password-stdin "$REG_tok" > "$T/l5.log" 2>&1 \
  && bad "Bearer: a wrong password is refused" || ok "Bearer: a wrong password is refused"
check "Bearer: the refusal is named" grep -q "token service refused the credentials" "$T/l5.log"
check "Bearer: no password in the error" clean "$T/l5.log"

# --- a credential helper ------------------------------------------------------
# docker-credential-dwtest keeps credentials in a JSON file and logs the
# actions it was asked for (never the secret)
mkdir -p "$T/bin"
cat > "$T/bin/docker-credential-dwtest" <<'PY'
#!/usr/bin/env python3
import json, os, sys
d = os.path.dirname(os.path.abspath(__file__))
db = os.path.join(d, "creds.json")
creds = json.load(open(db)) if os.path.exists(db) else {}
action, data = sys.argv[1], sys.stdin.read()
with open(os.path.join(d, "actions"), "a") as f:
    f.write(action + " " + (json.loads(data)["ServerURL"] if action == "store" else data.strip()) + "\n")
if action == "store":
    c = json.loads(data)
    creds[c["ServerURL"]] = {"Username": c["Username"], "Secret": c["Secret"]}
elif action == "get":
    if data.strip() not in creds:
        print("credentials not found in native keychain"); sys.exit(1)
    c = creds[data.strip()]
    print(json.dumps({"ServerURL": data.strip(), "Username": c["Username"], "Secret": c["Secret"]}))
elif action == "erase":
    if data.strip() not in creds:
        print("credentials not found in native keychain"); sys.exit(1)
    del creds[data.strip()]
json.dump(creds, open(db, "w"))
PY
chmod +x "$T/bin/docker-credential-dwtest"
export PATH=$T/bin:$PATH

echo '{"credsStore":"dwtest"}' > "$CFG"
check "login (Basic) into credsStore" sh -c "printf testpass | '$DW' login -u tester --password-stdin '$REG_auth' > '$T/h1.out' 2>&1"
check "the helper stored them for the registry" \
  jq -e --arg h "$REG_auth" '.[$h] == {"Username": "tester", "Secret": "testpass"}' "$T/bin/creds.json"
check "config.json keeps an empty entry, no secret (as Docker)" \
  jq -e --arg h "$REG_auth" '.auths[$h] == {} and .credsStore == "dwtest"' "$CFG"
check "it names the helper" grep -q "docker-credential-dwtest" "$T/h1.out"
check "no password in the output" clean "$T/h1.out"
check "a push gets them from the helper" "$DW" push small:1 "$REG_auth/small:3"
check "the helper was asked (get)" grep -qx "get $REG_auth" "$T/bin/actions"

echo '{"credHelpers":{"'"$REG_tok"'":"dwtest"}}' > "$CFG"
check "login (Bearer) into credHelpers" sh -c "printf testpass | '$DW' login -u tester --password-stdin '$REG_tok' > /dev/null 2>&1"
check "the helper stored them" jq -e --arg h "$REG_tok" '.[$h].Username == "tester"' "$T/bin/creds.json"
check "logout erases them from the helper" "$DW" logout "$REG_tok"
check "the helper was asked to erase" grep -qx "erase $REG_tok" "$T/bin/actions"
check "gone from the helper and the file" sh -c "jq -e --arg h '$REG_tok' 'has(\$h) | not' '$T/bin/creds.json' && jq -e --arg h '$REG_tok' '(.auths // {}) | has(\$h) | not' '$CFG'"
finish

#!/usr/bin/env bash
# Try ratsfach in one command: starts the embedded service on a free port in a fresh temporary
# directory, sets up a tenant, a committee with a staff member (Anna) and a council member (Bert),
# enrols one device each, sends a folder of sample documents from Anna's device to Bert's, edits one
# on both sides to show a conflict copy, prints where to look, and stops the service.
#   RATSFACH_DEMO_DIR   where to put everything (default: a new directory under $TMPDIR)
#   RATSFACH_DEMO_BUILD 0 skips install and build (for a tree that is already built)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ "${RATSFACH_DEMO_BUILD:-1}" != 0 ]; then install_and_build; fi

DEMO="$(realpath -m "${RATSFACH_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ratsfach-demo.XXXXXX")}")"
mkdir -p "$DEMO"
[ -z "$(ls -A "$DEMO")" ] || die "$DEMO is not empty: give RATSFACH_DEMO_DIR a new or empty directory"
PORT="$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
URL="http://127.0.0.1:$PORT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Runs the command as the given profile (admin, anna, bert) with that device's passphrase.
rf() {
  local who="$1"; shift
  RATSFACH_PASSPHRASE="demo passphrase of $who" node packages/client/bin/ratsfach.js --profile "$DEMO/profiles/$who" "$@"
}

step "starting the service on $URL (data in $DEMO/server, log in $DEMO/server.log)"
RATSFACH_PORT="$PORT" RATSFACH_HOST=127.0.0.1 RATSFACH_DATA_DIR="$DEMO/server" RATSFACH_LOG_LEVEL=warn \
  node services/api/dist/main.js >"$DEMO/server.log" 2>&1 &
SERVER=$!
stop_server() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill -INT "$SERVER" && wait "$SERVER" 2>/dev/null || true
  fi
}
trap stop_server EXIT
wait_for 180 "the service at $URL/readyz" curl -fsS "$URL/readyz" ||
  die "the service did not get ready; see $DEMO/server.log"

export RATSFACH_ROOT_PASSPHRASE="demo root passphrase"
step "administrator: tenant 'stadt', people, committee 'finanz' (Anna staff, Bert reader)"
rf admin admin init --server "$URL" --tenant stadt --root "$DEMO/root.key"
rf admin admin people add anna --name 'Anna Amt'
rf admin admin people add bert --name 'Bert Rat'
rf admin admin committees create finanz --staff anna
rf admin admin committees add finanz bert --role reader

step "enrolment: one-time codes, Anna's laptop and Bert's iPad enrol, the administrator approves"
code_of() { rf admin admin invite "$1" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).code))'; }
ANNA_CODE="$(code_of anna)"
BERT_CODE="$(code_of bert)"
# enrol exits 3: the device waits for the administrator's certification
rf anna enrol "$URL" "$ANNA_CODE" --tenant stadt --user anna --name anna-laptop || [ $? = 3 ]
rf bert enrol "$URL" "$BERT_CODE" --tenant stadt --user bert --name bert-ipad || [ $? = 3 ]
rf admin admin approve --all
rf admin admin heartbeat

step "Anna (staff) co-signs the memberships, confirms Bert's device, starts key epoch 0"
rf anna confirm --committee finanz --yes
rf anna keys

step "Anna's device sends a folder of sample documents"
mkdir -p "$DEMO/anna/finanz/Sitzung 2027-01-14" "$DEMO/anna/finanz/Haushalt"
printf 'Tagesordnung\n1. Eröffnung\n2. Haushalt 2027\n3. Verschiedenes\n' >"$DEMO/anna/finanz/Sitzung 2027-01-14/Tagesordnung.txt"
printf 'Antrag: Sanierung der Stadtbibliothek, 1,2 Mio EUR.\n' >"$DEMO/anna/finanz/Sitzung 2027-01-14/Antrag Bibliothek.txt"
printf 'Entwurf Haushalt 2027 (vertraulich)\n' >"$DEMO/anna/finanz/Haushalt/Entwurf 2027.txt"
head -c 300000 /dev/urandom >"$DEMO/anna/finanz/Haushalt/Anlage Kalkulation.bin"
rf anna sync "$DEMO/anna"

step "Bert's device receives them, verified and decrypted"
rf bert sync "$DEMO/bert"
diff -r "$DEMO/anna/finanz" "$DEMO/bert/finanz" || die "Bert's folder differs from Anna's"
echo "Bert's folder holds the same bytes as Anna's."

step "both edit the draft: Anna's edit becomes version 2, Bert's is kept as a conflict copy"
printf 'Entwurf Haushalt 2027 (vertraulich)\nÄnderung von Anna: Bibliothek +1,2 Mio\n' >"$DEMO/anna/finanz/Haushalt/Entwurf 2027.txt"
printf 'Entwurf Haushalt 2027 (vertraulich)\nNotiz von Bert: Frage zur Bibliothek\n' >"$DEMO/bert/finanz/Haushalt/Entwurf 2027.txt"
rf anna sync "$DEMO/anna"
rf bert sync "$DEMO/bert"
CONFLICT="$(find "$DEMO/bert/finanz/Haushalt" -name 'Entwurf 2027 (conflict, *' | head -1)"
[ -n "$CONFLICT" ] || die "no conflict copy in Bert's folder"
cmp -s "$DEMO/anna/finanz/Haushalt/Entwurf 2027.txt" "$DEMO/bert/finanz/Haushalt/Entwurf 2027.txt" ||
  die "Bert's device does not hold Anna's version 2"

step "what the server holds: no plaintext, no file name"
if grep -rqa -e 'Stadtbibliothek' -e 'Tagesordnung' -e 'Entwurf 2027' "$DEMO/server"; then
  die "the server's data directory holds a plaintext or a file name"
fi
echo "grep over $DEMO/server for the documents' text and names: nothing found."

stop_server
trap - EXIT
step "done"
cat <<EOF
Look at:
  $DEMO/anna/finanz            Anna's (staff) folder
  $DEMO/bert/finanz            Bert's folder: the same documents, and
  $CONFLICT
                               his own edit, kept beside Anna's version 2
  $DEMO/server                 the server's data: an event log, encrypted blobs, read models
  $DEMO/profiles               each device's profile (keys sealed under its passphrase)
The service is stopped. Passphrases: 'demo passphrase of anna' (or bert, admin), root 'demo root passphrase'.
Remove everything with: rm -rf '$DEMO'
EOF

#!/usr/bin/env bash
# Contracts stay documented: every reject code in src/lib/diag.h is in docs/rejects.md,
# every program answers --help (exit 0, with "Exit status") and --version, and misuse exits 2.
set -u
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }

codes=$(sed -n 's/^[[:space:]]*X(REJ_[A-Z0-9_]*, "\([a-z0-9_]*\)".*/\1/p' src/lib/diag.h)
[ -n "$codes" ] || notok "found the reject codes in diag.h"
for c in $codes; do
	if grep -q "| \`$c\` |" docs/rejects.md; then ok "reject code $c is documented"; else notok "reject code $c is documented in docs/rejects.md"; fi
done

for p in "$BIN"/*; do
	name=$(basename "$p")
	out=$("$p" --help 2>/dev/null); st=$?
	if [ $st -eq 0 ] && grep -q "Exit status" <<<"$out" && grep -q "^usage: $name" <<<"$out"; then
		ok "$name --help"
	else
		notok "$name --help (exit $st)"
	fi
	if "$p" --version 2>/dev/null | grep -q "^$name "; then ok "$name --version"; else notok "$name --version"; fi
	"$p" --no-such-option </dev/null >/dev/null 2>"${TMPDIR:-/tmp}/contracts.err.$$"; st=$?
	if [ $st -eq 2 ] && grep -q "^usage: $name" "${TMPDIR:-/tmp}/contracts.err.$$"; then ok "$name misuse exits 2 with the synopsis"; else notok "$name misuse exits 2 (got $st)"; fi
	rm -f "${TMPDIR:-/tmp}/contracts.err.$$"
done

# --project ends in every record: one that would make them invalid JSON or break a
# line is a usage error, never passed on
for p in fetch-events normalize; do
	for bad in "" $'acme\xff' $'ac\tme' $'ac\nme'; do
		"$BIN/$p" --project "$bad" </dev/null >"${TMPDIR:-/tmp}/contracts.out.$$" 2>/dev/null; st=$?
		if [ $st -eq 2 ] && [ ! -s "${TMPDIR:-/tmp}/contracts.out.$$" ]; then ok "$p refuses --project $(printf %q "$bad")"; else notok "$p refuses --project $(printf %q "$bad") (exit $st)"; fi
	done
	if printf '' | "$BIN/$p" --project 'açme-1' >/dev/null 2>&1; then ok "$p takes a UTF-8 --project"; else notok "$p takes a UTF-8 --project"; fi
done
rm -f "${TMPDIR:-/tmp}/contracts.out.$$"

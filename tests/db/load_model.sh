#!/usr/bin/env bash
# Random histories bench/gen never makes (tests/db/lib/histories.py: same-instant events,
# e-mails that change, redeliveries with other content, Hotmart plans with and without a
# period, switches, cancellations, refunds), three seeds: the state tables load writes match
# an independent reading of docs/schema.md's rules (tests/db/lib/state_model.py), and are
# the same loaded in other orders, batchings and runs (audit-G2, kept).
. "$(dirname "$0")/lib/db.sh"

for seed in 1 2 3; do
	d=$T/h$seed
	python3 "$ROOT/tests/db/lib/histories.py" "$ROOT/fixtures" "$d" "$seed"
	: >"$d/all.ndjson"
	fetched=0
	while IFS=$'\t' read -r f at; do
		fetch-events --project acme --received-at "$at" "$d/$f" |
			normalize --emit-raw --plans "$ROOT/fixtures/plans.tsv" >>"$d/all.ndjson" 2>/dev/null
		ps=("${PIPESTATUS[@]}") # normalize: 1 for a failed event, which histories make
		fetched=$((fetched + ps[0] + (ps[1] > 1)))
	done <"$d/recv.tsv"
	a=$(newdb model_$seed)
	load --dsn "dbname=$a" "$d/all.ndjson" 2>"$T/err"
	st=$?
	processed=$(grep -c '"status":"processed"' "$d/all.ndjson")
	check "seed $seed: fetched and loaded whole (exit $fetched, $st), $processed events processed" \
		sh -c "test $fetched = 0 && test $st = 0 && test $processed -ge 100"
	python3 "$ROOT/tests/db/lib/state_model.py" "$d/all.ndjson" "$a" >"$T/model" 2>&1
	check "seed $seed: the rows the rules give ($(tail -n 2 "$T/model" | tr '\n' ' '))" \
		grep -qx "mismatches: 0" "$T/model"
	# the log's attempts count each change of outcome (docs/schema.md): a copy with other
	# content that came first and was replaced by the earlier one counts twice
	tables() { state "$1" | sed 's/"attempts": [0-9]*, //'; }
	tables "$a" >"$T/a"
	# pairs (raw envelope, its event) shuffled, one a batch; reversed over two runs; each
	# dump a run, the last first
	b=$(newdb model_${seed}_b)
	paste - - <"$d/all.ndjson" | shuf --random-source=<(yes "$seed") | tr '\t' '\n' |
		load --dsn "dbname=$b" --batch 2 2>/dev/null
	tables "$b" >"$T/b"
	check "seed $seed: shuffled, a pair a batch: the same tables" cmp -s "$T/a" "$T/b"
	c=$(newdb model_${seed}_c)
	load_reversed "$c" "$d/all.ndjson"
	tables "$c" >"$T/c"
	check "seed $seed: reversed, a pair a batch: the same tables" cmp -s "$T/a" "$T/c"
done

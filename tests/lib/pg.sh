# tests/lib/pg.sh: a private, throwaway PostgreSQL cluster (sourced, not run).
#   pg_start DIR   initdb + pg_ctl start in DIR, unix socket in DIR; exports PGHOST, PGPORT,
#                  PGUSER, PGDATABASE for the clients. As root the server runs as 'postgres'.
#                  $PG_SERVER_OPTS, if set, adds server options ("-c name=value ...").
#   pg_stop DIR    stop it (fast) and remove DIR.
# PostgreSQL's server binaries are off PATH on Debian: pg_config --bindir names them.

pg_bindir() {
	local d
	for d in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	echo "pg: no initdb found (apt-get install postgresql)" >&2
	return 1
}

pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
	local dir=$1 bindir
	bindir=$(pg_bindir) || return 1
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		runuser -u postgres -- test -x "$bindir/initdb" || {
			echo "pg: user 'postgres' cannot run $bindir/initdb (is a parent directory, even /, closed to other users?)" >&2
			return 1
		}
	fi
	pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	# No TCP: a unix socket in the cluster's own directory, its port named (the server
	# would take the caller's PGPORT, a host's second cluster's 5433, where the
	# clients below are sent to 5432).
	pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
		-o "-c port=5432 -c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c full_page_writes=off -c synchronous_commit=off ${PG_SERVER_OPTS:-}" \
		start || { cat "$dir/server.log" >&2; return 1; }
	export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
	# what would send libpq elsewhere whatever PGHOST says: a service (its file wins
	# over the environment), a host address, the caller's session options, and the
	# connection strings load, reconcile and export read before the PG* variables
	unset PGSERVICE PGHOSTADDR PGOPTIONS RO_DSN RO_AUDIT_DSN
}

pg_stop() {
	local dir=$1 bindir
	bindir=$(pg_bindir) || return 1
	[ -d "$dir/data" ] && pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop
	rm -rf "$dir"
}

# pg_bench_opts: the server options of the benchmarks (bench/e2e, bench/load-bench):
# shared_buffers a quarter of the memory, at most 2 GB. PostgreSQL's default, 128 MB,
# is a toy server's: the indexes of a 1M-event load outgrow it (measured: 172 s with
# it, 160 s with 2 GB, docs/performance.md). max_wal_size stays 1 GB: 8 GB (fewer
# checkpoints) saved 3 s of server CPU at 200k events and cost 13 s at 1M, where the
# backends write back the dirty buffers themselves (docs/load.md). Every row of a
# benchmark uses the same.
pg_bench_opts() {
	local kb
	kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	kb=$((kb / 4))
	[ "$kb" -gt 2097152 ] && kb=2097152
	echo "-c shared_buffers=$((kb / 1024))MB"
}

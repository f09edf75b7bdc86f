# tests/lib/pg.sh: a private, throwaway PostgreSQL cluster (sourced, not run).
#   pg_start DIR   initdb + pg_ctl start in DIR, unix socket in DIR; exports PGHOST, PGPORT,
#                  PGUSER, PGDATABASE for the clients. As root the server runs as 'postgres'.
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
	# No TCP: a unix socket in the cluster's own directory.
	pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
		start || { cat "$dir/server.log" >&2; return 1; }
	export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
}

pg_stop() {
	local dir=$1 bindir
	bindir=$(pg_bindir) || return 1
	[ -d "$dir/data" ] && pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop
	rm -rf "$dir"
}

# shellcheck shell=bash disable=SC2034 # (its variables are the scripts')
# pipelines/dsn.sh: sourced by the pipelines (bash), not run. A --dsn read as libpq reads it
# (key=value text, or a URI starting exactly "postgresql://" or "postgres://"), so that its
# password goes to the programs and psql in their environment (PGPASSWORD: /proc/PID/environ
# is the user's alone) and not on their command lines, which every local user sees (ps).

# libpq's connection keywords (PostgreSQL 18's, older ones included): another is refused,
# and libpq's message would quote it. The secret ones are libpq's dispchar "*".
dsn_keywords=" service user password passfile channel_binding connect_timeout dbname host hostaddr
 port client_encoding options application_name fallback_application_name keepalives
 keepalives_idle keepalives_interval keepalives_count tcp_user_timeout sslmode sslnegotiation
 sslcompression sslcert sslkey sslcertmode sslpassword sslrootcert sslcrl sslcrldir sslsni
 sslkeylogfile requirepeer require_auth ssl_min_protocol_version ssl_max_protocol_version
 min_protocol_version max_protocol_version gssencmode krbsrvname gsslib gssdelegation
 replication target_session_attrs load_balance_hosts scram_client_key scram_server_key
 oauth_issuer oauth_client_id oauth_client_secret oauth_scope requiressl authtype tty "
dsn_secret_keywords=" password sslpassword oauth_client_secret "
dsn_blank=$' \t\n\v\f\r'

# _dsn_kv TEXT: libpq's key=value grammar into _dsn_keys/_dsn_vals; 1 when libpq refuses TEXT
# (a word without '=', an unknown keyword, an unterminated quote).
_dsn_kv() {
	local s=$1 n=${#1} i=0 k v c
	_dsn_keys=() _dsn_vals=()
	while :; do
		while ((i < n)) && [[ $dsn_blank == *"${s:i:1}"* ]]; do i=$((i + 1)); done
		((i < n)) || return 0
		k=""
		while ((i < n)) && [ "${s:i:1}" != = ] && [[ $dsn_blank != *"${s:i:1}"* ]]; do k+=${s:i:1}; i=$((i + 1)); done
		while ((i < n)) && [[ $dsn_blank == *"${s:i:1}"* ]]; do i=$((i + 1)); done
		[ "${s:i:1}" = = ] || return 1
		i=$((i + 1))
		while ((i < n)) && [[ $dsn_blank == *"${s:i:1}"* ]]; do i=$((i + 1)); done
		v=""
		if [ "${s:i:1}" != "'" ]; then
			while ((i < n)); do
				c=${s:i:1}
				i=$((i + 1))
				[[ $dsn_blank == *"$c"* ]] && break
				if [ "$c" = \\ ]; then
					((i < n)) && { v+=${s:i:1}; i=$((i + 1)); }
				else
					v+=$c
				fi
			done
		else
			i=$((i + 1))
			while :; do
				((i < n)) || return 1
				c=${s:i:1}
				i=$((i + 1))
				if [ "$c" = \\ ]; then
					((i < n)) && { v+=${s:i:1}; i=$((i + 1)); }
				elif [ "$c" = "'" ]; then
					break
				else
					v+=$c
				fi
			done
		fi
		[[ $k =~ ^[a-z_]+$ ]] && [[ $dsn_keywords == *" $k "* ]] || return 1
		_dsn_keys+=("$k") _dsn_vals+=("$v")
	done
}

# _dsn_decode TEXT: a URI part's %-escapes decoded into _dsn_dec; 1 when libpq refuses them
# (a '%' without two hex digits, %00).
_dsn_decode() {
	local s=$1 t
	t=${s//%[0-9A-Fa-f][0-9A-Fa-f]/}
	[[ $t == *%* || $s == *%00* ]] && return 1
	s=${s//\\/\\\\}
	printf -v _dsn_dec '%b' "${s//%/\\x}"
}

# _dsn_quote VALUE: VALUE as a key=value string's quoted value
_dsn_quote() {
	local v=${1//\\/\\\\}
	printf "'%s'" "${v//\'/\\\'}"
}

# _dsn_pieces URI: what of a password libpq misreads in a URI, to mask: of
# postgresql://u:p@ss@host/db the "ss" lands in the host name its messages quote; of
# postgresql://u:Xy7/Qz9@host/db (a '/' not written %2F) no password is read, "Xy7" is
# taken for the port and quoted as a bad one. Appended to dsn_masks, with the whole text.
_dsn_pieces() {
	local rest=${1#*://} head host auth pw pieces
	head=${rest%%[@/]*}
	case $head in *:*) ;; *) return 0 ;; esac
	if [ "${rest:${#head}:1}" = @ ]; then
		[ -n "${head#*:}" ] || return 0
		dsn_masks+=("${head#*:}")
		host=${rest#*@}
		host=${host%%[:/?]*}
		case $host in *@*) dsn_masks+=("${host%@*}") ;; esac
	else
		auth=${rest%%\?*}
		case $auth in *@*) ;; *) return 0 ;; esac
		pw=${auth%@*}
		pw=${pw#*:}
		dsn_masks+=("$pw")
		IFS=/ read -ra pieces <<<"$pw"
		dsn_masks+=("${pieces[@]}")
	fi
	dsn_secret=1
}

# dsn_split CONNINFO: sets
#   dsn_ok      0 when libpq would refuse CONNINFO (its message may quote it, password and all)
#   dsn_conn    CONNINFO without its password, to pass on; CONNINFO itself when it has none,
#               or when it cannot be split (then it is passed on as given)
#   dsn_pw      the password taken out of it ("" when none), for PGPASSWORD
#   dsn_secret  1 when CONNINFO holds a secret (a password, an sslpassword, a dbname that is
#               itself a connection string holding one)
#   dsn_masks   what of it to mask in psql's messages
dsn_split() {
	local c=$1 i k v base query p out sep pwdone=0
	dsn_ok=1 dsn_conn=$c dsn_pw="" dsn_secret=0 dsn_masks=()
	case $c in
	postgresql://* | postgres://*)
		_dsn_pieces "$c"
		_dsn_decode "$c" || { _dsn_refused "$c"; return 0; }
		base=${c%%\?*} query=""
		[ "$base" = "$c" ] || query=${c#*\?}
		# libpq: the user info ends at the first '@' before any '/'; the password after its first ':'
		local scheme=${base%%://*}:// rest=${base#*://} head
		head=${rest%%[@/]*}
		if [ "${rest:${#head}:1}" = @ ] && [[ $head == *:* ]]; then
			_dsn_decode "${head#*:}"
			dsn_pw=$_dsn_dec
			[ -z "$dsn_pw" ] || dsn_masks+=("$_dsn_dec") dsn_secret=1
			base=$scheme${head%%:*}@${rest#*@}
		fi
		# each key=value of the query: a password= is taken out (the last one wins, as in libpq)
		out="" sep=""
		if [ -n "$query" ]; then
			local params
			IFS='&' read -ra params <<<"$query"
			for p in "${params[@]}"; do
				[[ $p == *=* && ${p#*=} != *=* ]] || { _dsn_refused "$c"; return 0; }
				_dsn_decode "${p%%=*}"
				k=$_dsn_dec
				[[ $dsn_keywords == *" $k "* || $k == ssl ]] || { _dsn_refused "$c"; return 0; }
				_dsn_decode "${p#*=}"
				v=$_dsn_dec
				if [[ $dsn_secret_keywords == *" $k "* ]] && [ -n "$v" ]; then
					dsn_secret=1
					dsn_masks+=("${p#*=}" "$v")
				fi
				if [ "$k" = password ]; then
					[ -n "$v" ] || pwdone=2 # an empty one read by libpq
					dsn_pw=$v
					continue
				fi
				out+=$sep$p sep='&'
			done
		fi
		dsn_conn=$base${out:+?$out}
		[ $pwdone != 2 ] || dsn_conn=$c dsn_pw=""
		;;
	*)
		_dsn_kv "$c" || { _dsn_refused "$c"; return 0; }
		local keys=("${_dsn_keys[@]}") vals=("${_dsn_vals[@]}") pw="" secret=0 masks=() empty=0
		out="" sep=""
		for i in "${!keys[@]}"; do
			k=${keys[$i]} v=${vals[$i]}
			if [[ $dsn_secret_keywords == *" $k "* ]] && [ -n "$v" ]; then
				secret=1
				masks+=("$v")
			fi
			# dbname=postgresql://u:pw@/db: libpq sends the inner string as the database's
			# name, which the server quotes (cut to 63 bytes): masked whole when it holds a secret
			if [ "$k" = dbname ] && [[ $v == postgresql://* || $v == postgres://* || $v == *=* ]]; then
				dsn_split "$v"
				if [ "$dsn_ok" = 0 ] || [ "$dsn_secret" = 1 ]; then
					secret=1
					masks+=("$v" "$(LC_ALL=C; printf %s "${v:0:63}")")
				fi
			fi
			if [ "$k" = password ]; then
				pw=$v pwdone=1
				[ -n "$v" ] || empty=1
				continue
			fi
			out+=$sep$k=$(_dsn_quote "$v") sep=' '
		done
		dsn_ok=1 dsn_conn=$c dsn_pw=$pw dsn_secret=$secret dsn_masks=(${masks[@]+"${masks[@]}"})
		# an empty password=, which libpq reads (PGPASSWORD then is not): the string as it is
		if [ $empty = 1 ]; then
			dsn_pw=""
		elif [ $pwdone = 1 ]; then
			dsn_conn=$out
		fi
		;;
	esac
	return 0
}

_dsn_refused() { dsn_ok=0 dsn_conn=$1 dsn_pw=""; }

# dsn_note PROG: said once a run, when a --dsn held a secret (dsn_split's dsn_secret): the
# script's own command line keeps it for as long as it runs
dsn_noted=0
dsn_note() {
	[ "$dsn_secret" = 1 ] && [ "$dsn_noted" = 0 ] || return 0
	dsn_noted=1
	echo "$1: a password in --dsn is visible to every local user in the process list (ps) for as long as this runs; it belongs in PGPASSWORD or ~/.pgpass" >&2
}

# dsn_run PASSWORD COMMAND ARGS...: COMMAND with PGPASSWORD=PASSWORD when there is one
dsn_run() {
	local pw=$1
	shift
	if [ -n "$pw" ]; then PGPASSWORD=$pw "$@"; else "$@"; fi
}

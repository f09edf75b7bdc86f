# pipelines/lib/common.sh: what the pipelines' scripts share. Sourced by export,
# ingest-dumps and reconcile (installed beside them: make install), after they set
#   prog  their name in messages ("export")
#   here  their own directory, a symlink to the script resolved
# Sourcing it sets tmp_base, puts /dev/null on a stderr that is closed (stderr_usable),
# and defines the functions below; nothing else runs.

# Where temporary files go; a name starting with '-' is a directory, not an option.
tmp_base=${TMPDIR:-/tmp}
case $tmp_base in -*) tmp_base=./$tmp_base ;; esac

# stderr_usable: stderr closed (2>&-), or read-only where bash itself put this script:
# /dev/null instead, or a message's echo ends the run under set -e, and mawk aborts
# (audit-E 1). Read by the shell itself, not by a $(sed ...): with stdout closed too, the
# substitution's pipe took descriptors 1 and 2, and sed, when it ran before the shell
# closed that pipe's end (a loaded machine), saw the pipe there and not the closed stderr
# (stop 56: export >&- 2>&- exited 1 one run in four under load).
stderr_usable() {
	local k v flags=""
	[ -d /proc/$$/fdinfo ] || return 0
	# (no 2>/dev/null here: fdinfo is written as it is read, and would show /dev/null's
	# flags. It fails to open only when stderr is closed, and its message goes nowhere.)
	while read -r k v; do [ "$k" != flags: ] || flags=$v; done </proc/$$/fdinfo/2 || :
	case $flags in *[1235267]) ;; *) exec 2>/dev/null ;; esac
}
stderr_usable # (here, once for every script: run_stage needs it)

# shown ARG: an argument as a message says it: an option's value left out (--dns=URI, a
# typo for --dsn, may hold a password)
shown() {
	case $1 in -*=*) printf '%s=...' "${1%%=*}" ;; *) printf '%s' "$1" ;; esac
}

# out_failed: after a --help or --version that stdout did not take (a full disk): said as
# ours, exit 3; a reader gone (| head: SIGPIPE) ends it quietly, as the programs do
out_failed() { [ $? -gt 128 ] || echo "$prog: cannot write to standard output" >&2; exit 3; }

# programs_dir PROG: the programs' directory, next to a source tree (bin/) or an install
# (PREFIX/bin), the first holding PROG, goes first in PATH (not a $BIN of the caller's
# environment: audit-P 5); else PATH alone finds them. One holding a ':', which PATH cannot,
# is left in colon_dir, for programs_found to say once the options are read (--help and
# --version answer still).
programs_dir() {
	local d
	colon_dir=""
	for d in "$here/../bin" "$here/../../../bin"; do
		[ -x "$d/$1" ] || continue
		d=$(cd "$d" && pwd)
		case $d in *:*) colon_dir=$d ;; *) PATH=$d:$PATH ;; esac
		return 0
	done
}

# programs_found PROG...: each of them found and runnable, or said, exit 3
programs_found() {
	local p x
	[ -z "$colon_dir" ] ||
		{ echo "$prog: the programs' directory '$colon_dir' holds a ':', which PATH cannot" >&2; exit 3; }
	for p; do
		x=$(command -v "$p") && [ -x "$x" ] ||
			{ echo "$prog: cannot find '$p', or cannot run it (not in $here/../bin, $here/../../../bin or PATH)" >&2; exit 3; }
	done
}

# The stages of a run go in a job of their own (set -m: a process group), which the script
# waits for; a signal the script traps stops them too. A SIGKILL, which no trap sees
# (`timeout -s KILL`, a watchdog's `kill -9`), left them running on unsupervised (audit-K
# 1, 3): one more process in the job, guard_job, notices that the script has gone and
# stops them.
#
# guard_job DIR [PATH...]: started in the background inside the job (`{ guard_job & stage; }`).
# Once this script has gone (or is a zombie its killer left unreaped), TERM the job's group
# and remove DIR and the PATHs, as the EXIT trap would have. Its pid is in DIR/guard, for
# end_guard. A TERM ends it (its sleep with it).
guard_job() {
	exec </dev/null >/dev/null 2>&1
	# nor any other descriptor: the job's pipes, a lock, the caller's (a flock(1) around
	# the script was held after it ended: review R13 1)
	local f s
	for f in /proc/self/fd/*; do
		f=${f##*/}
		[ "$f" -le 2 ] || eval "exec $f>&-" 2>/dev/null
	done
	trap 'kill $! 2>/dev/null; exit 0' TERM
	echo "$BASHPID" >"$1/guard"
	while if read -r s </proc/$$/stat; then s=${s##*) } && [ "${s%% *}" != Z ]; else kill -0 $$; fi; do
		sleep 1 & wait $!
	done
	trap '' TERM
	kill -TERM 0
	rm -rf -- "$@"
}

# run_stage FILE CMD...: one stage of the job: CMD, then its exit status into FILE, written
# over the placeholder there ('%03d', 1<>: no truncation). A stage killed by a signal (the
# OOM killer's KILL) is said by the script from its status ("load exited 137"); the shell
# that waits for it would say so too, in its own words and with the script's text ("line N:
# 1234 Killed   load ${load_args[@]+...}"): that shell's stderr is /dev/null while it
# waits, the stage's own is the run's (fd 3 carries it past). Redirections given to
# run_stage itself are CMD's (stdin, stdout, stderr to a file). stderr must be open (a closed
# one fails 3>&2: CMD never runs, status 1): sourcing this file made it so (stderr_usable).
run_stage() {
	local f=$1
	shift
	{ "$@" 2>&3 3>&-; } 3>&2 2>/dev/null
	printf '%03d\n' $? 1<>"$f"
}

# end_guard DIR: in the EXIT trap, end the guard whose pid is in DIR/guard (an exit of the
# script's own: left, it outlived the script by up to a second, its command line, a password
# given with --dsn in it, still there: db/dsn_secrets.sh). The pid is checked to be in the
# job $job still: gone, it could be another process's by now. Missed, nothing is left to
# stop or remove, and the guard ends within a second.
end_guard() {
	local g s
	{ read -r g <"$1/guard" && read -r s <"/proc/$g/stat"; } 2>/dev/null || return 0
	s=${s##*) }
	set -- $s
	[ "$3" != "${job:-}" ] || kill "$g" 2>/dev/null || : # (set -e: no status of its own)
}

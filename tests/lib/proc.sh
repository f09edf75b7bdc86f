# tests/lib/proc.sh: process helpers for the tests (sourced).

# group_gone PGID: wait (5 s at most) until no process of group PGID runs (zombies, dead
# till init reaps them, do not count); the pids left in $left. (ps -g selects a session,
# not a process group: the checks that used it could not fail.)
group_gone() {
	for _ in $(seq 1 250); do
		left=$(ps -eo pid=,pgid=,stat= | awk -v g="${1:-0}" '$2 == g && $3 !~ /^Z/ { printf "%s ", $1 }')
		[ -z "$left" ] && return 0
		sleep 0.02
	done
	return 1
}

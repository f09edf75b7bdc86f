# tests/lib/tap.sh: what every TAP shell test under tests/sh starts with (sourced).
#   ok WHAT / notok WHAT    print the next "ok N - WHAT" / "not ok N - WHAT"
#   check WHAT CONDITION    ok or notok as the shell text CONDITION succeeds
# BIN (the programs) and ROOT (the checkout) default to the current directory's.
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }
BIN=${BIN:-$PWD/bin}
ROOT=${ROOT:-$PWD}

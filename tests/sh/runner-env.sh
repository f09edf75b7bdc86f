#!/usr/bin/env bash
# Under tests/run, no connection of the caller's is left for a test to reach: RO_DSN and
# RO_AUDIT_DSN (read by load, reconcile and export before the PG* variables), a service, a
# host address. tests/sh/contracts.sh runs this file through tests/run with them all set.
set -u
. "$(dirname "$0")/../lib/tap.sh"
for v in RO_DSN RO_AUDIT_DSN PGSERVICE PGHOSTADDR; do
	if [ -z "${!v+x}" ]; then ok "$v is not set under tests/run"; else notok "$v is set under tests/run: '${!v}'"; fi
done

#!/bin/sh
# A model that finds the database through SSDB alone: writes KEY=VALUE, reads it back, and says where it ran.
# Exits 3 when the value read differs; EXIT_WITH makes it exit with that code afterwards (a failing model).
# Shared by the Slurm tests on the loopback testbed (SlurmModelsIT) and on the cluster of containers (SlurmClusterIT);
# PBS has its own (its last line names the PBS job).
set -eu
first=${SSDB%%,*}
host=${first%:*}
port=${first##*:}
# An orchestrator with a password adds SSDB_USER and SSDB_PASSWORD; redis-cli takes the password from REDISCLI_AUTH
# (not from its command line, where ps would show it).
set -- -c -h "$host" -p "$port"
if [ -n "${SSDB_PASSWORD:-}" ]; then
    export REDISCLI_AUTH="$SSDB_PASSWORD"
    set -- "$@" --user "$SSDB_USER"
fi
redis-cli "$@" set "$KEY" "$VALUE" > /dev/null
got=$(redis-cli "$@" get "$KEY")
if [ "$got" != "$VALUE" ]; then
    echo "read '$got', wrote '$VALUE'" >&2
    exit 3
fi
echo "ok $KEY=$got type=$SR_DB_TYPE node=${SLURMD_NODENAME:-?} step=${SLURM_JOB_ID:-?}.${SLURM_STEP_ID:-?}"
exit "${EXIT_WITH:-0}"

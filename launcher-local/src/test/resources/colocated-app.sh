#!/bin/bash
# A rank of a model with a colocated database, knowing only its environment: writes its key through SSDB (a Unix
# socket, unix:///path, or 127.0.0.1:PORT), reads it back, then waits for the file $1 (made by the test once it has
# looked at the node's database; at most 120 s) unless $1 is empty, and exits with $2 (0), or kills itself with
# SIGKILL when $2 is "kill". Its rank: SMARTSIM_RANK (the local launcher's), else SLURM_PROCID (under srun).
set -eu
rank="${SMARTSIM_RANK:-${SLURM_PROCID:-0}}"
case "$SSDB" in
    unix://*) cli=(redis-cli -s "${SSDB#unix://}") ;;
    *) cli=(redis-cli -h "${SSDB%:*}" -p "${SSDB##*:}") ;;
esac
"${cli[@]}" SET "rank:$rank" "value-$rank" >/dev/null
got="$("${cli[@]}" GET "rank:$rank")"
if [ "$got" != "value-$rank" ]; then
    echo "rank $rank read back '$got', expected 'value-$rank'" >&2
    exit 1
fi
echo "rank $rank ok SSDB=$SSDB SR_DB_TYPE=$SR_DB_TYPE"
if [ -n "${1:-}" ]; then
    end=$((SECONDS + 120))
    while [ ! -e "$1" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
fi
if [ "${2:-0}" = kill ]; then
    kill -KILL $$
fi
exit "${2:-0}"

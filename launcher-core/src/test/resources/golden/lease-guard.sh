#!/bin/bash
# Lease guard of orchestrator db, written by smartsim-launch at each start (edits are overwritten).
# Started next to each shard as: lease-guard.sh PID SHARD. Every second it reads the lease file, which holds the
# Unix time (whole seconds) when the lease runs out. Once that time has passed on this node's clock, or the file
# has been removed, it stops the shard: SIGTERM (Redis saves first when checkpointing is on), SIGKILL after
# grace_seconds, and appends the reason to the events log. It exits by itself when the shard's process is gone.
# Only bash builtins run in the loop: no date, cat or sleep process per check. It waits by reading, with a
# timeout, from a pipe nobody writes to (opened once below).
export TZ=UTC
id=db
lease_file=/exp/db/lease
events=/exp/db/events.jsonl
lease_seconds=600
grace_seconds=60
pid=$1
shard=$2
exec {tick}<> <(:)
printf -v now '%(%s)T' -1
expiry=$((now + lease_seconds))
while kill -0 "$pid" 2>/dev/null; do
  if [ -e "$lease_file" ]; then
    # A read that fails or finds no number (a shared file system mid-update) keeps the last expiry seen.
    if read -r value < "$lease_file" 2>/dev/null && [[ $value =~ ^[0-9]+$ ]]; then
      expiry=$value
    fi
  else
    expiry=0 # the lease file was removed: the lease is revoked
  fi
  printf -v now '%(%s)T' -1
  if (( now >= expiry )); then
    printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
    if (( expiry == 0 )); then why="the lease file $lease_file was removed"; else why="the lease ran out at $expiry (Unix time) without being renewed"; fi
    printf '{"time":"%s","orchestrator":"%s","type":"lease-expired","shard":%s,"detail":"%s: sent SIGTERM to pid %s"}\n' \
      "$stamp" "$id" "$shard" "$why" "$pid" >> "$events"
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < grace_seconds * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || exit 0
      read -r -t 0.1 -u "$tick" _
    done
    kill -KILL "$pid" 2>/dev/null
    exit 0
  fi
  read -r -t 1 -u "$tick" _
done

#!/usr/bin/env bash
# redis-benchmark's view of the module at 16 B (BENCHMARKS.md, "AI serving"): on one redis-server with the module,
# SET vs AI.TENSORSET and GET vs AI.TENSORGET ... META BLOB, 1 and 16 connections, the order alternating from round
# to round; prints each run with the load average, then the medians. (1 MiB cannot be sent this way: a command-line
# argument is at most 128 KiB on Linux; ModuleBench measures both sizes.)
#   ai-module/src/test/bench/redis-benchmark-16b.sh [PORT] [ROUNDS] [REQUESTS]     after mvn -pl ai-module -am package
set -euo pipefail
port=${1:-11990}
rounds=${2:-5}
n=${3:-50000}
so=$(cd "$(dirname "$0")/../../.." && pwd)/target/smartsim-ai.so
[ -f "$so" ] || { echo "no $so: build ai-module first (mvn -pl ai-module -am package)" >&2; exit 1; }
dir=$(mktemp -d)
(cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --loadmodule "$so") &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
v=0123456789abcdef
runs=$dir/runs
for r in $(seq "$rounds"); do
    for c in 1 16; do
        for pair in "SET k$c $v|AI.TENSORSET t$c UINT8 16 BLOB $v" "GET k$c|AI.TENSORGET t$c META BLOB"; do
            a=${pair%%|*} b=${pair#*|}
            if [ $((r % 2)) = 1 ]; then order=("$a" "$b"); else order=("$b" "$a"); fi
            for cmd in "${order[@]}"; do
                # shellcheck disable=SC2086
                rps=$(redis-benchmark -p "$port" -n "$n" -c "$c" -q $cmd 2>&1 | tr '\r' '\n' \
                      | sed -n 's/.*: \([0-9.]*\) requests per second, p50=\([0-9.]*\) msec.*/\1 \2/p' | tail -1)
                name=${cmd%% *}
                echo "round $r c=$c $name $rps load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$runs"
            done
        done
    done
done
echo
echo "| connections | command | req/s (median of $rounds) | p50 ms (median) |"
echo "|---|---|---|---|"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for c in 1 16; do
    for name in SET AI.TENSORSET GET AI.TENSORGET; do
        rps=$(awk -v c="c=$c" -v name="$name" '$3 == c && $4 == name { print $5 }' "$runs" | median)
        p50=$(awk -v c="c=$c" -v name="$name" '$3 == c && $4 == name { print $6 }' "$runs" | median)
        echo "| $c | \`$name\` | $rps | $p50 |"
    done
done

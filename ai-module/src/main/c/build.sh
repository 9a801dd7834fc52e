#!/bin/sh
# Compiles the smartsim-ai Redis module; ai-module's pom runs it in the compile phase:
#   build.sh SRC_DIR TARGET_DIR
# Leaves TARGET_DIR/smartsim-ai.so, and a copy in TARGET_DIR/classes so that the jar carries it (AiModule finds it).
# CC picks another C compiler (default gcc).
set -eu
src=$1
target=$2
cc=${CC:-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "ai-module: the C compiler '$cc' is not on PATH. The AI module (smartsim-ai.so) is compiled during the build:" >&2
    echo "ai-module: install gcc (Debian/Ubuntu: apt-get install gcc; ./run-tests and ./demo install it when missing)," >&2
    echo "ai-module: or set CC to a C compiler." >&2
    exit 1
fi
# Redis 6.0's API only (KeyDB 6.3 loads the module as Redis 7 does): every API function the source asks the server
# for (its API(Name) table) and every one it calls (RM.Name) must be in redis-6.0-api.txt with a version <= 6.0.
api_list=$src/redis-6.0-api.txt
used=$( (grep -o 'API([A-Za-z]*)' "$src/smartsim_ai.c" | sed 's/API(\(.*\))/\1/' | grep -v '^f$';
         grep -o 'RM\.[A-Z][A-Za-z]*' "$src/smartsim_ai.c" | sed 's/RM\.//') | sort -u)
table=$(grep -o 'API([A-Za-z]*)' "$src/smartsim_ai.c" | sed 's/API(\(.*\))/\1/' | grep -v '^f$' | sort -u)
bad=""
for f in $used; do
    if ! printf '%s\n' "$table" | grep -qx "$f"; then
        bad="$bad\n  RM.$f is called but not in load_api's table (the server would never be asked for it)"
    fi
    since=$(awk -v n="RedisModule_$f" '$1 == n { print $2 }' "$api_list")
    if [ -z "$since" ]; then
        bad="$bad\n  RedisModule_$f is not in $api_list (check its \"Available since\" in the Modules API reference)"
    elif ! printf '%s\n6.0.99\n' "$since" | sort -V -C; then
        bad="$bad\n  RedisModule_$f is available since $since, after Redis 6.0 (KeyDB 6.3 would not load the module)"
    fi
done
if [ -n "$bad" ]; then
    printf 'ai-module: the module must use Redis 6.0 API only:%b\n' "$bad" >&2
    exit 1
fi
mkdir -p "$target/classes/io/smartsim/launch/ai/module"
if ! "$cc" -std=gnu11 -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -pthread \
    -o "$target/smartsim-ai.so" "$src/smartsim_ai.c"; then
    echo "ai-module: '$cc' could not compile the AI module (its messages are above). A missing stdio.h means the C" >&2
    echo "ai-module: library headers are not installed (Debian/Ubuntu: apt-get install libc6-dev)." >&2
    exit 1
fi
cp "$target/smartsim-ai.so" "$target/classes/io/smartsim/launch/ai/module/smartsim-ai.so"

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
mkdir -p "$target/classes/io/smartsim/launch/ai/module"
if ! "$cc" -std=gnu11 -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
    -o "$target/smartsim-ai.so" "$src/smartsim_ai.c"; then
    echo "ai-module: '$cc' could not compile the AI module (its messages are above). A missing stdio.h means the C" >&2
    echo "ai-module: library headers are not installed (Debian/Ubuntu: apt-get install libc6-dev)." >&2
    exit 1
fi
cp "$target/smartsim-ai.so" "$target/classes/io/smartsim/launch/ai/module/smartsim-ai.so"

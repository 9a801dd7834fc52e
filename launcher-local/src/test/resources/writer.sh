#!/bin/sh
# A model that knows only its environment: writes one key through SSDB (redis-cli -c follows the cluster's
# redirects) and reads it back. $1 is the key prefix; an optional $2 names another database, SSDB_$2.
# It logs in as SSDB_USER (SSDB_USER_$2) with the password in SSDB_PASSWORD, passed to redis-cli through the
# environment (REDISCLI_AUTH), never on a command line that ps would show.
set -eu
prefix="$1"
var="SSDB${2:+_$2}"
eval "ssdb=\${$var}"
eval "user=\${SSDB_USER${2:+_$2}:-}"
eval "password=\${SSDB_PASSWORD${2:+_$2}:-}"
if [ -n "$password" ]; then
    REDISCLI_AUTH="$password"
    export REDISCLI_AUTH
fi
first="${ssdb%%,*}"
host="${first%:*}"
port="${first##*:}"
set -- -c -h "$host" -p "$port"
if [ -n "$user" ]; then
    set -- "$@" --user "$user"
fi
redis-cli "$@" SET "$prefix:key" "value-$prefix" >/dev/null
got="$(redis-cli "$@" GET "$prefix:key")"
if [ "$got" != "value-$prefix" ]; then
    echo "read back '$got', expected 'value-$prefix'" >&2
    exit 1
fi
echo "ok $prefix $var=$ssdb SR_DB_TYPE=$SR_DB_TYPE"

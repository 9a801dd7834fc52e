#!/bin/sh
# A model that knows only its environment: writes one key through SSDB (redis-cli -c follows the cluster's
# redirects) and reads it back. $1 is the key prefix; an optional $2 names another database, SSDB_$2.
set -eu
prefix="$1"
var="SSDB${2:+_$2}"
eval "ssdb=\${$var}"
first="${ssdb%%,*}"
host="${first%:*}"
port="${first##*:}"
redis-cli -c -h "$host" -p "$port" SET "$prefix:key" "value-$prefix" >/dev/null
got="$(redis-cli -c -h "$host" -p "$port" GET "$prefix:key")"
if [ "$got" != "value-$prefix" ]; then
    echo "read back '$got', expected 'value-$prefix'" >&2
    exit 1
fi
echo "ok $prefix $var=$ssdb SR_DB_TYPE=$SR_DB_TYPE"

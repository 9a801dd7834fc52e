#!/bin/sh
# Host keys of this container only, made at start; then sshd in the foreground as the container's main process,
# logging to stderr (docker logs). Any arguments replace sshd (for a container that runs something else).
set -e
[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
install -d -m 0755 /run/sshd
if [ $# -gt 0 ]; then exec "$@"; fi
exec /usr/sbin/sshd -D -e

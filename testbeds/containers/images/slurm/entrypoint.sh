#!/bin/sh
# entrypoint.sh controller|node|login: munged (with the munge key the test put at /etc/munge/munge.key), then
#   controller: slurmctld in the foreground;
#   node:       slurmd in the foreground (its node name is the container's hostname);
#   login:      sshd in the foreground (host key made now), for the launcher run from the host with --remote.
set -e
role="${1:-node}"
for d in /run/munge /var/log/munge /var/lib/munge; do install -d -o munge -g munge -m 0711 "$d"; done
if [ ! -s /etc/munge/munge.key ]; then echo "entrypoint: /etc/munge/munge.key is missing (the test gives it)" >&2; exit 1; fi
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged
install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld /var/log/slurm /run/slurm
install -d -m 0755 /var/spool/slurmd
case "$role" in
  controller) exec /usr/sbin/slurmctld -D -i ;;
  node)       exec /usr/sbin/slurmd -D ;;
  login)      [ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
              install -d -m 0755 /run/sshd
              exec /usr/sbin/sshd -D -e ;;
  *) echo "entrypoint: role must be controller, node or login, not '$role'" >&2; exit 2 ;;
esac

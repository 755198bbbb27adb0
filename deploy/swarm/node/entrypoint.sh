#!/usr/bin/env bash
# Entrypoint of a cluster node (scripts/cluster.sh). `dockerd [ARGS]`: start a Docker engine in
# this container; anything else is run as given (the registry container runs docker-registry).
set -euo pipefail

if [[ "${1:-}" != dockerd ]]; then
  exec "$@"
fi

# Without --privileged (refused where the host lacks a capability), /sys and the cgroup
# hierarchies are mounted read-only: dockerd must write both to run containers. Remounting them
# read-write is harmless where they already are.
mount -o remount,rw /sys 2>/dev/null || true
while read -r _ mountpoint fstype options _; do
  if [[ "$mountpoint" == /sys/fs/cgroup* && "$fstype" =~ ^(cgroup|cgroup2|tmpfs)$ && "$options" == ro,* ]]; then
    mount -o remount,bind,rw "$mountpoint" 2>/dev/null || true
  fi
done < <(cat /proc/mounts)

# cgroup v2: a process may not stay in a cgroup whose children get controllers; move this one
# into a leaf first and hand every controller down (what the moby dind script does).
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
fi

shift
exec dockerd --host=unix:///var/run/docker.sock "$@"

#!/usr/bin/env bash
# Make the Docker sandbox for untrusted code usable on this machine, offline. Idempotent;
# cheap (about a second) when everything is already there, so `make test` runs it always.
#
#   sudo bash scripts/setup-sandbox.sh
#
# 1. installs Debian's docker.io when dockerd is missing (apt-get update once);
# 2. starts `dockerd --iptables=false --ip6tables=false --bridge=none` in the background
#    when no engine answers (log: /var/log/synthgym-dockerd.log), waits up to 60 s;
# 3. builds the sandbox image when it is missing: debootstrap (installed when missing)
#    makes a bookworm minbase root with python3 from the Debian mirror apt already uses,
#    `docker import` turns it into synthgym-sandbox:<hash of verifiers/sandbox_image/>.
#    Nothing is pulled from a registry. About a minute the first time.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RECIPE="$REPO/verifiers/sandbox_image"
DOCKERD_LOG=/var/log/synthgym-dockerd.log
WAIT_S=60
START=$(date +%s)

say() { echo "[setup-sandbox] $*"; }
die() { echo "[setup-sandbox] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it may install packages and start dockerd): sudo bash $0"
command -v python3 >/dev/null || die "python3 is needed to compute the image tag"

# One setup at a time on this machine.
exec 9>/var/lock/synthgym-setup-sandbox.lock
flock -w 900 9 || die "another setup-sandbox run holds /var/lock/synthgym-setup-sandbox.lock"

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        >/tmp/synthgym-apt-install.log 2>&1 \
        || { tail -n 20 /tmp/synthgym-apt-install.log >&2; die "apt-get install $* failed"; }
}

# ---- 1. engine binaries
if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
else
    say "dockerd present: $(command -v dockerd)"
fi
command -v docker >/dev/null 2>&1 || die "no docker client on PATH (package docker.io provides one)"

# ---- 2. a running engine
engine_up() { timeout 10 docker info >/dev/null 2>&1; }

# The Debian archive apt already uses here (deb822 .sources or one-line .list), first found.
debian_mirror() {
    {
        cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" {print $2}'
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    } | grep -vE 'security|nodesource|packages\.cloud|download\.docker' \
      | grep -E '/debian/?$' | head -n 1 || true
}
if engine_up; then
    say "Docker engine answers"
else
    say "starting dockerd --iptables=false --ip6tables=false --bridge=none (log: $DOCKERD_LOG)"
    # A stale pid file from a dead daemon would stop it from starting.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    # Detached, holding none of our descriptors (the lock, a CI runner's pipes): it outlives
    # this script and must not keep anything of its caller open.
    (
        for fd in $(ls /proc/$BASHPID/fd); do
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid nohup dockerd --iptables=false --ip6tables=false --bridge=none \
            >>"$DOCKERD_LOG" 2>&1 </dev/null
    ) &
    for _ in $(seq 1 "$WAIT_S"); do
        engine_up && break
        sleep 1
    done
    if ! engine_up; then
        tail -n 20 "$DOCKERD_LOG" >&2 || true
        die "dockerd did not answer within ${WAIT_S}s (log: $DOCKERD_LOG)"
    fi
    say "Docker engine is up ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
fi

# ---- 3. the sandbox image, tagged by the hash of its recipe
TAG=$(cd "$REPO" && python3 -I verifiers/sandbox.py --image-tag) \
    || die "could not compute the sandbox image tag"
if docker image inspect "$TAG" >/dev/null 2>&1; then
    say "sandbox image $TAG present"
else
    say "sandbox image $TAG missing: building it offline"
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    MIRROR=$(debian_mirror)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
    bash "$RECIPE/build.sh" "$TAG" "$MIRROR" || die "building $TAG failed"
    docker image inspect "$TAG" >/dev/null 2>&1 || die "$TAG is still missing after the build"
fi

say "ready: engine up, image $TAG ($(( $(date +%s) - START ))s)"

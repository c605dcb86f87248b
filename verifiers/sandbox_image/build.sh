#!/usr/bin/env bash
# Build synthgym's sandbox image offline (no registry pull): a Debian bookworm `minbase`
# root with python3, made by debootstrap from a Debian mirror, plus the verifier-owned
# harness, imported with `docker import`.
#
#   bash verifiers/sandbox_image/build.sh IMAGE_TAG [DEBIAN_MIRROR]
#
# Run as root (debootstrap needs it). The tag is computed by the caller from the hash of
# this folder (see synthgym.verifiers.sandbox.image_tag), so editing any file here makes
# a new image. Called by scripts/setup-sandbox.sh; not meant to be run on every test.
set -euo pipefail

TAG=${1:?usage: build.sh IMAGE_TAG [DEBIAN_MIRROR]}
MIRROR=${2:-http://deb.debian.org/debian}
SUITE=bookworm
HERE=$(cd "$(dirname "$0")" && pwd)

say() { echo "[sandbox-image] $*"; }

WORKDIR=$(mktemp -d /var/tmp/synthgym-sandbox-image.XXXXXX)
cleanup() { rm -rf --one-file-system "$WORKDIR"; }
trap cleanup EXIT
ROOT=$WORKDIR/root

say "debootstrap --variant=minbase --include=python3 $SUITE from $MIRROR (about a minute)"
if ! debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOT" "$MIRROR" \
        >"$WORKDIR/debootstrap.log" 2>&1; then
    tail -n 30 "$WORKDIR/debootstrap.log" >&2
    echo "[sandbox-image] ERROR: debootstrap failed (log above)" >&2
    exit 1
fi

say "pruning documentation, translations and package caches"
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
       "$ROOT"/usr/share/locale/* "$ROOT"/var/cache/apt/* "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*
# The setuid-root binaries of minbase (passwd, su, mount, ...) stay: the sandbox runs with
# no-new-privileges, and the attack suite checks that one of them does not escalate.

say "installing the harness at /opt/synthgym/harness.py"
install -d -m 0755 "$ROOT/opt/synthgym" "$ROOT/work"
install -m 0444 "$HERE/harness.py" "$ROOT/opt/synthgym/harness.py"
chroot "$ROOT" /usr/bin/python3 -I -S -c \
    'import ast; ast.parse(open("/opt/synthgym/harness.py").read())'

say "docker import -> $TAG"
tar --numeric-owner -C "$ROOT" -cf - . | docker import \
    --change 'USER 65534:65534' \
    --change 'WORKDIR /work' \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'LABEL synthgym.sandbox.image=1' \
    --change 'CMD ["/usr/bin/python3", "-I", "-S", "-B", "/opt/synthgym/harness.py", "once"]' \
    - "$TAG" >/dev/null
say "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"

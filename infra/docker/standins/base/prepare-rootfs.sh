#!/usr/bin/env bash
# Runs on the host after `debootstrap --variant=minbase bookworm ROOTFS` and
# before `tar | docker import`. Makes the rootfs behave like the official
# debian:bookworm-slim image where it matters for Dockerfiles built on it.
set -euo pipefail
ROOTFS="$1"
MIRROR="${2:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${3:-http://deb.debian.org/debian-security}"

rm -f "$ROOTFS/etc/apt/sources.list"
cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

# Like debian:*-slim: no recommends, no caches, no docs/man pages/translations.
cat >"$ROOTFS/etc/apt/apt.conf.d/90helfy-docker" <<'CONF'
APT::Install-Recommends "0";
APT::Install-Suggests "0";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
CONF
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/90helfy-docker" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF
# Daemons must not start during package installation inside a build.
cat >"$ROOTFS/usr/sbin/policy-rc.d" <<'SH'
#!/bin/sh
exit 101
SH
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"

echo "helfy-base" >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/var/log/apt/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.bash_history 2>/dev/null || true
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true

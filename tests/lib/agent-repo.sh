#!/usr/bin/env bash
# agent-repo.sh DIR: build a stand-in step-agent package and a local apt
# repository holding it in DIR, and print its sources.list line:
#
#   deb [trusted=yes] file:DIR ./
#
# The package (version 0.0.0-test, for this machine's dpkg architecture)
# holds /usr/bin/step-agent, a script that prints
# "step-agent/0.0.0-test (linux/<arch>)" for "step-agent version", and
# /lib/systemd/system/step-agent.service, a oneshot unit that runs it and
# leaves no process behind. It lets the role's install path run offline.
set -euo pipefail

die() {
	echo "agent-repo.sh: $*" >&2
	exit 1
}
(($# == 1)) || die "usage: agent-repo.sh DIR"
for c in dpkg-deb dpkg-scanpackages gzip sha256sum; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (Debian: apt-get install -y dpkg-dev)"
done

mkdir -p "$1"
dir=$(cd "$1" && pwd)
arch=$(dpkg --print-architecture)
version=0.0.0-test
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

pkg=$build/step-agent
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: step-agent
Version: $version
Architecture: $arch
Maintainer: stepfleet tests <tests@stepfleet.invalid>
Section: admin
Priority: optional
Description: stand-in Smallstep agent for tests
 Prints its version and does nothing else. Built by tests/lib/agent-repo.sh.
CONTROL
cat >"$pkg/usr/bin/step-agent" <<SCRIPT
#!/bin/sh
# Stand-in for the Smallstep agent, built by tests/lib/agent-repo.sh.
case "\${1:-}" in
version | --version) echo "step-agent/$version (linux/$arch)" ;;
*) echo "step-agent/$version (linux/$arch): stand-in, nothing to run" ;;
esac
SCRIPT
chmod 0755 "$pkg/usr/bin/step-agent"
cat >"$pkg/lib/systemd/system/step-agent.service" <<'UNIT'
[Unit]
Description=Smallstep agent (test stand-in)

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/step-agent run

[Install]
WantedBy=multi-user.target
UNIT
# Stop the unit on removal where systemd runs, so dpkg -r leaves nothing.
cat >"$pkg/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl disable --now step-agent.service >/dev/null 2>&1 || true
fi
PRERM
cat >"$pkg/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
POSTRM
chmod 0755 "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"

deb=step-agent_${version}_$arch.deb
dpkg-deb --root-owner-group --build "$pkg" "$dir/$deb" >/dev/null

cd "$dir"
dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages
gzip -9nc Packages >Packages.gz
# A flat repository with a Release file, so apt has no reason to complain
# beyond the missing signature that [trusted=yes] accepts.
{
	echo "Origin: stepfleet-tests"
	echo "Label: stepfleet-tests"
	echo "Architectures: $arch all"
	echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
	echo "SHA256:"
	for f in Packages Packages.gz; do
		printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
	done
} >Release
# apt reads file: repositories as the _apt user where it can.
chmod -R a+rX "$dir"
echo "deb [trusted=yes] file:$dir ./"

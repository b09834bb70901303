#!/usr/bin/env bash
# install-deps.sh: make a Debian 12 machine ready to build, test and demo the
# collection. Idempotent: installs only the apt packages that are missing
# (apt-get update only then), checks that Go >= 1.22 is usable and downloads
# the Go modules go.mod needs. Run as root (or with nothing missing).
set -euo pipefail

PACKAGES=(
	ansible-core ansible-lint
	# ansible-test sanity's requirements, instead of its pip installs
	python3-voluptuous yamllint python3-pycodestyle pylint shellcheck
	swtpm swtpm-tools tpm2-tools
	dpkg-dev
	openssl ca-certificates curl
	python3
	make
)
GO_MIN_MINOR=22 # go.mod says "go 1.22"

say() { echo "install-deps: $*"; }
die() {
	echo "install-deps: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
	[[ $(id -u) == 0 ]] || die "missing packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	say "apt packages present"
fi

# Go: Debian 12's own golang is 1.19, too old for go.mod, so only a Go from
# go.dev unpacked at /usr/local/go (or one already on PATH) will do.
case ":$PATH:" in
*:/usr/local/go/bin:*) ;;
*) [[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH" ;;
esac
need_go="Go >= 1.$GO_MIN_MINOR is needed at /usr/local/go (Debian 12's golang package is 1.19, too old): download go1.$GO_MIN_MINOR or newer for linux from https://go.dev/dl/ and run: rm -rf /usr/local/go && tar -C /usr/local -xzf go1.*.linux-\$(dpkg --print-architecture).tar.gz"
command -v go >/dev/null 2>&1 || die "no go command found. $need_go"
ver=$(go env GOVERSION 2>/dev/null || true) # e.g. go1.22.5
[[ $ver =~ ^go1\.([0-9]+) ]] || die "cannot tell the version of $(command -v go) (got '$ver'). $need_go"
((BASH_REMATCH[1] >= GO_MIN_MINOR)) || die "$(command -v go) is $ver. $need_go"
say "$(command -v go) is $ver"

(cd "$root" && go mod download) || die "go mod download failed (it needs the Go module proxy or a filled module cache)"
say "Go modules present"

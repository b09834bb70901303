#!/usr/bin/env bash
# run.sh: the fleet-scale benchmark (make bench). Builds the load generator
# (tests/bench/load) into a temporary directory, then runs bench.py, which
# starts its own simulator (bin/smallstep-sim, state in memory) on
# 127.0.0.1, times the ansible-playbook runs and prints the table on stdout
# (progress on stderr). Needs `make build` first (make bench does it).
#
# Environment (see bench.py): BENCH_N, BENCH_LOOP_N, BENCH_TIMEOUT,
# BENCH_LOAD_DURATION, BENCH_KEEP.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="/usr/local/go/bin:$PATH"
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $ARCH in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; esac

missing=()
[[ -x $ROOT/bin/smallstep-sim ]] || missing+=(bin/smallstep-sim)
for m in devices device; do
	[[ -x $ROOT/plugins/bin/${m}_linux_$ARCH ]] || missing+=("plugins/bin/${m}_linux_$ARCH")
done
for c in go ansible-playbook python3; do
	command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]})); then
	echo "bench: missing ${missing[*]}; run scripts/install-deps.sh and make build" >&2
	exit 1
fi

TMP=$(mktemp -d /tmp/ss-bench-load.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$TMP/load" ./tests/bench/load)
python3 "$ROOT/tests/bench/bench.py" "$ROOT" "$ROOT/bin/smallstep-sim" "$TMP/load"

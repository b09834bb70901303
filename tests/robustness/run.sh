#!/usr/bin/env bash
# run.sh: the robustness figures (issue 4, point 6). Runs the load scenario
# of the e2e target load (tests/e2e/targets/load/scenario.sh: 200 hosts,
# forks 20, 10% injected faults, the simulator killed with SIGKILL mid-run
# and restarted, a converging run, a run with faults off), then prints the
# figures (figures.py): requests sent, faults injected by kind, retries
# made, tasks failed, devices lost, duplicate devices and secrets found in
# any captured output, with how each was obtained.
#
# Exits non-zero when a device was lost or duplicated, a secret was found,
# or a check of the scenario failed. Needs make build. ROBUSTNESS_KEEP=1
# keeps the work directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E=$ROOT/tests/e2e
export PATH="/usr/local/go/bin:$PATH"
ARCH=$(dpkg --print-architecture)

for f in "$ROOT/bin/smallstep-sim" "$ROOT/plugins/bin/device_linux_$ARCH" "$ROOT/plugins/bin/device_collection_linux_$ARCH"; do
	[[ -x $f ]] || {
		echo "robustness: $f is missing; run make build" >&2
		exit 2
	}
done
for c in ansible-playbook curl /usr/bin/python3; do
	command -v "$c" >/dev/null || {
		echo "robustness: $c is missing; run scripts/install-deps.sh" >&2
		exit 2
	}
done

WORK=$(mktemp -d /tmp/ss-robust.XXXXXX)
mkdir -p "$WORK/logs"
PASSED=0
FAILED=0
pass() {
	PASSED=$((PASSED + 1))
	echo "PASS $*"
}
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $1"
	shift
	local l
	for l in "$@"; do echo "     $l"; done
}
note() { echo "== $*"; }

# shellcheck source=tests/lib/sim.sh
source "$ROOT/tests/lib/sim.sh"
# shellcheck source=tests/e2e/targets/load/scenario.sh
source "$E2E/targets/load/scenario.sh"

cleanup() {
	local rc=$?
	set +e
	load_cleanup
	if [[ ${ROBUSTNESS_KEEP:-0} == 1 ]]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ansible as tests/e2e/run.sh sets it up: this tree as the collection, no
# ansible.cfg from elsewhere.
mkdir -p "$WORK/collections/ansible_collections/stepfleet" "$WORK/ansible-local" "$WORK/ansible-remote"
ln -sfn "$ROOT" "$WORK/collections/ansible_collections/stepfleet/smallstep"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=default
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-local" ANSIBLE_REMOTE_TEMP="$WORK/ansible-remote"
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
export ANSIBLE_CONFIG="$WORK/ansible.cfg"
: >"$ANSIBLE_CONFIG"

# run_playbook LABEL PLAYBOOK [ARGS...]: as in tests/e2e/run.sh, its output
# in $WORK/logs/LABEL.log and its "check: ..." tasks counted.
run_playbook() {
	local label=$1 playbook=$2
	shift 2
	local log="$WORK/logs/$label.log" rc=0 out counts
	(cd "$WORK" && ansible-playbook -e "@$E2E/vars.yml" "$@" "$playbook") >"$log" 2>&1 || rc=$?
	out=$(/usr/bin/python3 "$E2E/lib/checks.py" "$label" "$log" "$rc")
	counts=$(tail -n 1 <<<"$out")
	sed '$d' <<<"$out" | grep -v '^SKIP ' || true
	PASSED=$((PASSED + ${counts% *}))
	FAILED=$((FAILED + ${counts#* }))
	return "$rc"
}

note "robustness: the load scenario in $WORK"
load_scenario "$WORK/load" || true
load_cleanup
note "robustness: $PASSED checks passed, $FAILED failed"
echo
rc=0
/usr/bin/python3 "$ROOT/tests/robustness/figures.py" "$WORK/load" "$WORK"/logs/load-*.log || rc=$?
if ((rc != 0)); then
	echo
	echo "robustness: FAILED: a device was lost or duplicated, or a secret was found"
	exit 1
fi
if ((FAILED != 0)); then
	echo
	echo "robustness: FAILED: $FAILED checks of the scenario failed (see above)"
	exit 1
fi

#!/usr/bin/env bash
# run.sh [TARGET...]: the end-to-end tests. Runs the real ansible-playbook
# against the Smallstep API simulator (bin/smallstep-sim) on 127.0.0.1 and
# three software TPMs (swtpm), one target after the other (default: all, in
# the order below). Each target is tests/e2e/targets/<name>/: a main.yml
# playbook whose "check: ..." tasks are the tests, or a run.sh sourced here
# that drives several playbooks. Prints a line per test and, last,
# "N passed, N failed"; exits non-zero when anything failed.
#
# Environment: E2E_KEEP=1 keeps the work directory (logs, state) for a look
# afterwards; E2E_VERBOSE=1 prints each playbook's output.
set -euo pipefail

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E/../.." && pwd)
ALL_TARGETS=(device_collection workload device devices authority_info info enrollment_token awx dist tpm_ek_info tpm_setups forks load secrets main)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=("${ALL_TARGETS[@]}")

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
skip() { echo "SKIP $*"; }
note() { echo "== $*"; }
summary() {
	echo "$PASSED passed, $FAILED failed"
}

for t in "${TARGETS[@]}"; do
	[[ -d $E2E/targets/$t ]] || {
		echo "run.sh: no target $t; targets: ${ALL_TARGETS[*]}" >&2
		exit 2
	}
done

export PATH="/usr/local/go/bin:$PATH"
ARCH=$(dpkg --print-architecture)

# --- prerequisites ----------------------------------------------------------
missing=()
[[ -x $ROOT/bin/smallstep-sim ]] || missing+=("bin/smallstep-sim")
for m in device_collection workload device authority_info; do
	[[ -x $ROOT/plugins/bin/${m}_linux_$ARCH ]] || missing+=("plugins/bin/${m}_linux_$ARCH")
done
for c in ansible-playbook swtpm swtpm_setup tpm2_createek dpkg-deb dpkg-scanpackages openssl curl /usr/bin/python3; do
	command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]})); then
	fail "prerequisites" "missing: ${missing[*]}" "run scripts/install-deps.sh and make build"
	summary
	exit 1
fi
if [[ ! -x $ROOT/tests/lib/swtpm.sh ]]; then
	fail "prerequisites" "tests/lib/swtpm.sh is missing"
	summary
	exit 1
fi

# --- work directory and clean-up --------------------------------------------
# Short, so the swtpm Unix socket paths stay within 108 bytes; readable by
# apt's _apt user, who reads the local repository inside it.
WORK=$(mktemp -d /tmp/ss-e2e.XXXXXX)
chmod 0755 "$WORK"
mkdir -p "$WORK/logs"
# A real step-agent on this machine is left alone (the main target then
# skips the install path); a stand-in left by an interrupted run is removed.
AGENT_WAS_INSTALLED=no
if dpkg-query -W -f='${Status}' step-agent 2>/dev/null | grep -q '^install ok installed'; then
	if dpkg-query -W -f='${Version}' step-agent | grep -q -- '-test$'; then
		dpkg --purge step-agent >/dev/null
	else
		AGENT_WAS_INSTALLED=yes
	fi
fi

# shellcheck source=tests/lib/sim.sh
source "$ROOT/tests/lib/sim.sh"

# remove_apt_sources: drop what the role added to apt for the local
# repository in WORK, so no broken source outlives the run.
remove_apt_sources() {
	local f
	for f in /etc/apt/sources.list.d/*; do
		[[ -f $f ]] && grep -qF "$WORK" "$f" 2>/dev/null && rm -f "$f"
	done
	local esc=${WORK//\//_}
	rm -f /var/lib/apt/lists/*"${esc#_}"* 2>/dev/null || true
}

cleanup() {
	local rc=$?
	set +e
	sim_stop
	"$ROOT/tests/lib/swtpm.sh" stopall "$WORK/tpm" >/dev/null 2>&1
	if [[ $AGENT_WAS_INSTALLED == no ]] && dpkg-query -W -f='${Version}' step-agent 2>/dev/null | grep -q -- '-test$'; then
		dpkg --purge step-agent >/dev/null 2>&1
	fi
	remove_apt_sources
	if [[ ${E2E_KEEP:-0} == 1 ]]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# A closed output pipe (run.sh | head) must still run the clean-up.
trap '' PIPE

# --- Ansible ----------------------------------------------------------------
mkdir -p "$WORK/collections/ansible_collections/stepfleet" "$WORK/ansible-local" "$WORK/ansible-remote"
ln -sfn "$ROOT" "$WORK/collections/ansible_collections/stepfleet/smallstep"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=default
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-local" ANSIBLE_REMOTE_TEMP="$WORK/ansible-remote"
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
# No ansible.cfg from the caller's directory or home changes what is tested.
export ANSIBLE_CONFIG="$WORK/ansible.cfg"
: >"$ANSIBLE_CONFIG"

# run_playbook LABEL PLAYBOOK [ANSIBLE-PLAYBOOK ARGS...]: run it with the
# e2e variables, report its checks, return its exit code. The output is in
# $WORK/logs/LABEL.log.
run_playbook() {
	local label=$1 playbook=$2
	shift 2
	local log="$WORK/logs/$label.log" rc=0
	(cd "$WORK" && ansible-playbook -e "@$E2E/vars.yml" -e "@$WORK/e2e.json" "$@" "$playbook") >"$log" 2>&1 || rc=$?
	[[ ${E2E_VERBOSE:-0} == 1 ]] && cat "$log"
	local out counts
	out=$(/usr/bin/python3 "$E2E/lib/checks.py" "$label" "$log" "$rc")
	counts=$(tail -n 1 <<<"$out")
	sed '$d' <<<"$out"
	PASSED=$((PASSED + ${counts% *}))
	FAILED=$((FAILED + ${counts#* }))
	if [[ $rc != 0 ]]; then
		echo "     (whole output: $log; E2E_KEEP=1 keeps it)"
	fi
	return "$rc"
}

# check_secrets LABEL LOG...: neither the simulator's token nor the wrong
# token the tests send appears in the given output.
# sweep_secrets WHAT SECRETS FILE...: passes WHAT when
# tests/robustness/sweep.py finds none of the tokens in SECRETS (a
# "label<TAB>token" line each), whole or in 12-character pieces, in the
# files; else fails it with what the sweep found.
sweep_secrets() {
	local what=$1 secrets=$2 out lines
	shift 2
	if out=$(/usr/bin/python3 "$ROOT/tests/robustness/sweep.py" "$secrets" "$@"); then
		pass "$what ($(tail -n 1 <<<"$out"))"
	else
		mapfile -t lines <<<"$out"
		fail "$what" "${lines[@]}"
	fi
}

check_secrets() {
	local label=$1
	shift
	local f leaked=()
	for f in "$@"; do
		if grep -qF -e "$SMALLSTEP_API_TOKEN" -e "$E2E_WRONG_TOKEN" "$f"; then
			leaked+=("$f")
		fi
	done
	if ((${#leaked[@]})); then
		fail "$label: no token in the output" "a token appears in: ${leaked[*]}"
	else
		pass "$label: no token in the output"
	fi
}

# --- the fixture: simulator, TPMs, agent repository --------------------------
note "setting up in $WORK"
sim_start "$WORK/sim"
pass "setup: simulator listening at $SMALLSTEP_API_URL"

E2E_WRONG_TOKEN="wrong-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HOSTS=(tpm-host-1 tpm-host-2 tpm-host-3)
declare -A TPM_PATH EK_URI EK_HEX EK_P384
for h in "${HOSTS[@]}"; do
	sock=$("$ROOT/tests/lib/swtpm.sh" start "$WORK/tpm" "$h" 2>"$WORK/logs/swtpm-$h.log") || {
		fail "setup: swtpm for $h" "$(tail -n 3 "$WORK/logs/swtpm-$h.log")"
		summary
		exit 1
	}
	TPM_PATH[$h]="unix:$sock"
	read -r uri hex p384 < <("$ROOT/tests/e2e/lib/ek-uri.sh" "$WORK/tpm/$h/state" "$WORK/ek/$h" 2>"$WORK/logs/ek-$h.log") || true
	if [[ ${uri:-} != urn:ek:sha256:* ]]; then
		fail "setup: independent EK URI for $h" "$(tail -n 3 "$WORK/logs/ek-$h.log")"
		summary
		exit 1
	fi
	EK_URI[$h]=$uri
	EK_HEX[$h]=$hex
	EK_P384[$h]=$p384
	uri='' hex='' p384=''
done
pass "setup: ${#HOSTS[@]} swtpm TPMs, EK URIs from tpm2_createek and the NV EK certificate agree"

AGENT_REPO_LINE=$("$ROOT/tests/lib/agent-repo.sh" "$WORK/agent-repo" 2>"$WORK/logs/agent-repo.log") || {
	fail "setup: stand-in step-agent repository" "$(tail -n 3 "$WORK/logs/agent-repo.log")"
	summary
	exit 1
}
pass "setup: stand-in step-agent package in a local apt repository"

# Variables every playbook gets (-e @e2e.json), and the inventory of the
# swtpm-backed hosts: all are this machine, over the local connection.
for h in "${HOSTS[@]}"; do
	printf '%s\t%s\t%s\t%s\t%s\n' "$h" "${TPM_PATH[$h]}" "${EK_URI[$h]}" "${EK_HEX[$h]}" "${EK_P384[$h]}"
done >"$WORK/tpms.tsv"
/usr/bin/python3 - "$WORK" "$ROOT" "$SMALLSTEP_API_URL" "$SIM_DIR/auth.header" "$E2E_WRONG_TOKEN" \
	"$AGENT_REPO_LINE" "$AGENT_WAS_INSTALLED" <<'PY'
import json, sys
work, root, url, header, wrong, repo, agent_was_installed = sys.argv[1:8]
tpm = {}
with open(work + '/tpms.tsv') as f:
    for line in f:
        host, path, uri, hexfp, p384 = line.rstrip('\n').split('\t')
        tpm[host] = {'tpm_path': path, 'uri': uri, 'hex': hexfp, 'p384_uri': '' if p384 == '-' else p384}
local = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
with open(work + '/e2e.json', 'w') as f:
    json.dump({
        'sim_url': url,
        'sim_auth_header': header,
        'e2e_root': root,
        'e2e_work': work,
        'e2e_wrong_token': wrong,
        'e2e_agent_repo': repo,
        'e2e_agent_was_installed': agent_was_installed == 'yes',
        'e2e_ek': tpm,
    }, f, indent=1)
inv = {'all': {
    'hosts': {'localhost': dict(local)},
    'children': {'tpm_hosts': {'hosts': {
        h: dict(local, e2e_tpm_path=v['tpm_path'], e2e_ek_uri=v['uri'], e2e_ek_hex=v['hex'],
                e2e_ek_p384_uri=v['p384_uri'])
        for h, v in tpm.items()}}},
}}
with open(work + '/inventory.json', 'w') as f:
    json.dump(inv, f, indent=1)
PY
export E2E_WRONG_TOKEN
INVENTORY="$WORK/inventory.json"

# --- targets -----------------------------------------------------------------
for t in "${TARGETS[@]}"; do
	note "$t"
	if [[ -f $E2E/targets/$t/run.sh ]]; then
		# Sourced: it uses the fixture above and the functions of this file.
		# shellcheck source=/dev/null
		source "$E2E/targets/$t/run.sh" || fail "$t: run.sh stopped with an error"
	else
		# -vvv so that the secret check below sees everything Ansible can print.
		run_playbook "$t" "$E2E/targets/$t/main.yml" -i "$INVENTORY" -vvv || true
		check_secrets "$t" "$WORK/logs/$t.log"
	fi
done

check_secrets "simulator log" "$SIM_DIR/sim.log"
note "summary"
summary
((FAILED == 0))

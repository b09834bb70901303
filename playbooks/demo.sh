#!/usr/bin/env bash
# demo.sh: the main job end to end on this machine, offline. `make demo`
# runs it after building. It installs what is missing (scripts/install-deps.sh),
# starts the Smallstep API simulator with a fresh token and three software
# TPMs with EK certificates, builds a stand-in step-agent package in a local
# apt repository, then runs playbooks/site.yml twice on an inventory of three
# local hosts: the second run must show changed=0 for every host. Last, it
# prints what the simulator holds and stops everything it started.
#
# DEMO_KEEP=1 keeps the work directory (inventory, logs, simulator state).
# Needs root: the role installs the stand-in package with apt (and removes
# it again at the end).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOSTS=(node-1 node-2 node-3)

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || die "run as root: the role installs a package with apt"

step "Checking dependencies"
"$ROOT/scripts/install-deps.sh" | sed 's/^/    /'
export PATH="/usr/local/go/bin:$PATH"
[[ -x $ROOT/bin/smallstep-sim ]] || die "bin/smallstep-sim is missing: run make build (make demo does)"

WORK=$(mktemp -d /tmp/ss-demo.XXXXXX)
# apt's _apt user reads the local repository inside it.
chmod 0755 "$WORK"
mkdir -p "$WORK/logs"
# A real step-agent on this machine is kept; a stand-in left by an
# interrupted run is removed, so that this run installs its own.
AGENT_WAS_INSTALLED=no
if dpkg-query -W -f='${Status}' step-agent 2>/dev/null | grep -q '^install ok installed'; then
	if dpkg-query -W -f='${Version}' step-agent | grep -q -- '-test$'; then
		dpkg --purge step-agent >/dev/null
	else
		AGENT_WAS_INSTALLED=yes
		info "step-agent is already installed here: the role keeps it and the demo leaves it alone"
	fi
fi

# shellcheck source=tests/lib/sim.sh
source "$ROOT/tests/lib/sim.sh"

cleanup() {
	local rc=$?
	set +e
	step "Cleaning up"
	sim_stop && info "simulator stopped"
	"$ROOT/tests/lib/swtpm.sh" stopall "$WORK/tpm" >/dev/null 2>&1 && info "software TPMs stopped"
	if [[ $AGENT_WAS_INSTALLED == no ]] && dpkg-query -W -f='${Version}' step-agent 2>/dev/null | grep -q -- '-test$'; then
		dpkg --purge step-agent >/dev/null 2>&1 && info "stand-in step-agent package removed"
	fi
	local f
	for f in /etc/apt/sources.list.d/*; do
		if [[ -f $f ]] && grep -qF "$WORK" "$f"; then
			rm -f "$f" && info "apt source $f removed"
		fi
	done
	local esc=${WORK//\//_}
	rm -f /var/lib/apt/lists/*"${esc#_}"* 2>/dev/null
	if [[ ${DEMO_KEEP:-0} == 1 ]]; then
		info "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	if ((rc == 0)); then
		printf '\ndemo passed\n'
	else
		printf '\ndemo FAILED (exit %d)\n' "$rc"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# A closed output pipe (demo.sh | head) must still run the clean-up.
trap '' PIPE

step "Starting the Smallstep API simulator"
sim_start "$WORK/sim"
info "$SMALLSTEP_API_URL (fresh token in $SIM_DIR/token, mode 0600, given to the modules through SMALLSTEP_API_TOKEN)"

step "Starting three software TPMs with EK certificates"
declare -A TPM
for h in "${HOSTS[@]}"; do
	TPM[$h]=unix:$("$ROOT/tests/lib/swtpm.sh" start "$WORK/tpm" "$h")
	info "$h: ${TPM[$h]}"
done

step "Building a stand-in step-agent package and a local apt repository"
REPO_LINE=$("$ROOT/tests/lib/agent-repo.sh" "$WORK/agent-repo")
info "$REPO_LINE"

step "Writing the inventory: three local hosts, one TPM each"
INVENTORY=$WORK/inventory.yml
{
	echo "all:"
	echo "  hosts:"
	for h in "${HOSTS[@]}"; do
		echo "    $h:"
		echo "      smallstep_tpm_path: \"${TPM[$h]}\""
		echo "      smallstep_agent_config_path: \"$WORK/hosts/$h/agent.yaml\""
	done
	echo "  vars:"
	echo "    ansible_connection: local"
	echo "    ansible_python_interpreter: /usr/bin/python3"
	echo "    smallstep_agent_apt_repo: \"$REPO_LINE\""
	echo "    smallstep_agent_apt_key_url: \"\""
	echo "    # The three hosts share this machine's dpkg."
	echo "    smallstep_agent_install_throttle: 1"
} >"$INVENTORY"
sed 's/^/    /' "$INVENTORY"

# The collection, used from this work tree.
mkdir -p "$WORK/collections/ansible_collections/stepfleet" "$WORK/ansible-local" "$WORK/ansible-remote"
ln -sfn "$ROOT" "$WORK/collections/ansible_collections/stepfleet/smallstep"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_STDOUT_CALLBACK=default
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-local" ANSIBLE_REMOTE_TEMP="$WORK/ansible-remote"
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_CONFIG="$WORK/ansible.cfg"
: >"$ANSIBLE_CONFIG"

# recap LOG: the PLAY RECAP lines of a run.
recap() { sed -n '/^PLAY RECAP/,$p' "$1" | grep -E '^[^ ].* : ok=' || true; }

# play N: run the main play; the output goes to a log, the recap is shown.
play() {
	local n=$1 log="$WORK/logs/run-$1.log" rc=0
	(cd "$WORK" && ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/site.yml") >"$log" 2>&1 || rc=$?
	if ((rc != 0)); then
		tail -n 40 "$log" | sed 's/^/    | /'
		die "run $n of playbooks/site.yml failed (exit $rc)"
	fi
	recap "$log" | sed 's/^/    /'
}

step "Running playbooks/site.yml: collection, workloads, then every host's TPM and agent"
play 1

step "Running it again: nothing should change"
writes=$(sim_writes)
play 2
writes=$(($(sim_writes) - writes))
bad=$(recap "$WORK/logs/run-2.log" | grep -Ev ' changed=0 +unreachable=0 +failed=0 ' || true)
n=$(recap "$WORK/logs/run-2.log" | wc -l)
if [[ -n $bad || $n -lt ${#HOSTS[@]} ]]; then
	die "the second run changed something (or did not reach every host):
$bad"
fi
((writes == 0)) || die "the second run sent $writes write requests to the simulator"
info "changed=0 on every host, and the simulator received no write request"

step "What the simulator now holds"
sim_get _sim/state >"$WORK/state.json"
/usr/bin/python3 - "$WORK/state.json" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
print('    team %s' % state['team'])
for a in state['authorities']:
    print('    authority %-34s fingerprint %s' % (a['domain'], a['fingerprint']))
for slug, c in sorted(state['collections'].items()):
    dc = c['deviceCollection']
    print('    device collection %s (%s, %s)' % (slug, dc.get('displayName'), dc.get('deviceType')))
    for w, wl in sorted(c.get('workloads', {}).items()):
        sans = wl.get('staticSANs') or ['<%s>' % k for k in wl.get('deviceMetadataKeySANs', [])]
        print('      workload %-14s %-8s SANs %s' % (w, wl.get('workloadType'), ', '.join(sans)))
    for d, dev in sorted(c.get('devices', {}).items(), key=lambda kv: kv[1]['data'].get('hostname', '')):
        print('      device %s  %s' % (dev['data'].get('hostname'), d))
PY
echo
echo "    The whole state (GET $SMALLSTEP_API_URL/_sim/state):"
/usr/bin/python3 -m json.tool "$WORK/state.json" | sed 's/^/    /'

step "The agent on each host"
for h in "${HOSTS[@]}"; do
	f=$WORK/hosts/$h/agent.yaml
	info "$h: $f ($(stat -c '%a %U' "$f")): $(grep -v '^#' "$f" | tr '\n' ' ')"
done
info "$(step-agent version 2>/dev/null || echo 'step-agent is not installed')"

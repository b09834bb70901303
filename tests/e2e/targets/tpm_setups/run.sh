# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the tpm_setups target (issue 3, point 6).
#
# tpm_ek_info against software TPMs set up the ways real fleets differ, one
# swtpm on a TCP port each (under $WORK/tpm, so run.sh's clean-up stops them
# even after an interrupted run) and one inventory host each:
#   certs      swtpm_setup --create-ek-cert (RSA 2048 at NV 0x01C00002, its
#              key persisted at 0x81010001; ECC P-384 at 0x01C00016, key at
#              0x81010016) plus ECC P-256 at 0x01C0000A (swtpm.sh --ecc)
#   nocerts    no certificate and no persistent key: both EKs come from the
#              TCG templates
#   persisted  no certificate; RSA and ECC EKs persisted by tpm2_createek at
#              0x81010001 and 0x81010002
#   ecc-certs  like certs, with the RSA certificate and persistent RSA key
#              removed (tpm2_nvundefine, tpm2_evictcontrol)
#   ecc-only   ecc-certs with an endorsement hierarchy password, so the RSA
#              EK cannot be recreated either: only ECC EKs can be read
# Every URI the module returns is compared with the one tpm2-tools and
# openssl compute from the same TPM (tests/e2e/lib/tpm-ref.sh). Then: the
# failures of point 2, each timed; no handles left behind (point 3, inside
# setups.yml); facts read by another host (point 4); the binaries'
# architecture, linking and size and the action plugin on an architecture it
# has no binary for (point 5).

# ts_free_port: set TS_FREE to a TCP port that neither it nor the next one
# is listened on and that this target has not handed out yet (no command
# substitution, so that TS_PORTS remembers it).
ts_free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$(python3 "$ROOT/tests/lib/free-port.py") || return 1
		[[ " ${TS_PORTS[*]} " == *" $p "* || " ${TS_PORTS[*]} " == *" $((p + 1)) "* ]] && continue
		if true; then
			TS_PORTS+=("$p" "$((p + 1))")
			TS_FREE=$p
			return 0
		fi
	done
	return 1
}

# ts_tools PORT CMD...: run a tpm2-tools command against the set-up on PORT,
# its output in the set-up log.
ts_tools() {
	local port=$1
	shift
	TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" "$@" >>"$TS_DIR/setup.log" 2>&1
}

# ts_start NAME [swtpm.sh options]: manufacture and serve a set-up on a free
# port; sets TS_PORT[NAME]. Reports a failure and returns 1 if it cannot.
ts_start() {
	local name=$1 port
	shift
	ts_free_port || {
		fail "tpm_setups: set-up $name" "no free TCP port"
		return 1
	}
	port=$TS_FREE
	if ! "$ROOT/tests/lib/swtpm.sh" tcp "$WORK/tpm" "ts-$name" "$port" "$@" >/dev/null 2>>"$TS_DIR/setup.log"; then
		fail "tpm_setups: set-up $name" "$(tail -n 3 "$TS_DIR/setup.log")"
		return 1
	fi
	TS_PORT[$name]=$port
}

# ts_ref HOST VAR WHAT ARGS...: the reference URI tpm-ref.sh computes for
# HOST's TPM, kept as the host variable ref_VAR.
ts_ref() {
	local host=$1 var=$2 uri
	shift 2
	if uri=$("$E2E/lib/tpm-ref.sh" "${TS_PORT[$host]}" "$@" 2>>"$TS_DIR/setup.log"); then
		printf '%s\tref_%s\t%s\n' "$host" "$var" "$uri" >>"$TS_DIR/refs.tsv"
	else
		fail "tpm_setups: $host: tpm-ref.sh $*" "$(tail -n 2 "$TS_DIR/setup.log")"
	fi
}

# ts_ms: milliseconds since the epoch.
ts_ms() { echo $(($(date +%s%N) / 1000000)); }

# ts_seconds MS: MS milliseconds as seconds.
ts_seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

ts_setups() {
	local name
	# certs: what swtpm_setup makes, plus the ECC P-256 certificate.
	ts_start certs --ecc
	ts_start nocerts --no-ek-cert
	# persisted: the EKs tpm2_createek makes from the templates, persisted at
	# the conventional handles, and no certificate.
	if ts_start persisted --no-ek-cert &&
		! { ts_tools "${TS_PORT[persisted]}" tpm2_createek -G rsa -c 0x81010001 &&
			ts_tools "${TS_PORT[persisted]}" tpm2_createek -G ecc -c 0x81010002; }; then
		fail "tpm_setups: set-up persisted: tpm2_createek -c 0x8101000x" "$(tail -n 3 "$TS_DIR/setup.log")"
		unset 'TS_PORT[persisted]'
	fi
	# ecc-certs and ecc-only: swtpm_setup always writes the RSA certificate,
	# so take it and the persistent RSA key away again.
	for name in ecc-certs ecc-only; do
		if ts_start "$name" --ecc &&
			! { ts_tools "${TS_PORT[$name]}" tpm2_evictcontrol -C o -c 0x81010001 &&
				ts_tools "${TS_PORT[$name]}" tpm2_nvundefine 0x1c00002 -C p; }; then
			fail "tpm_setups: set-up $name: removing the RSA certificate and key" "$(tail -n 3 "$TS_DIR/setup.log")"
			unset "TS_PORT[$name]"
		fi
	done
	if [[ -n ${TS_PORT[ecc-only]:-} ]] &&
		! ts_tools "${TS_PORT[ecc-only]}" tpm2_changeauth -c e "$TS_EH_AUTH"; then
		fail "tpm_setups: set-up ecc-only: tpm2_changeauth -c e" "$(tail -n 3 "$TS_DIR/setup.log")"
		unset 'TS_PORT[ecc-only]'
	fi
	((${#TS_PORT[@]} == 5)) && pass "tpm_setups: five swtpm set-ups on TCP (certs, nocerts, persisted, ecc-certs, ecc-only)"

	# swtpm 0.7 (libtpms 0.9) implements RSA whatever one asks; only libtpms
	# profiles (swtpm 0.10 and later, --profile) can leave algorithms out.
	local caps
	caps=$(swtpm socket --print-capabilities 2>/dev/null || true)
	if [[ $caps != *cmdarg-profile* ]]; then
		skip "tpm_setups: a TPM without the RSA algorithm: swtpm $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' <<<"$caps") has no --profile to turn RSA off (libtpms profiles need swtpm 0.10+); ecc-only hides RSA behind an endorsement password instead"
	else
		skip "tpm_setups: a TPM without the RSA algorithm: this swtpm has --profile, which this target does not use yet; ecc-only hides RSA behind an endorsement password instead"
	fi

	# The reference URIs, from tpm2-tools and openssl only.
	: >"$TS_DIR/refs.tsv"
	if [[ -n ${TS_PORT[certs]:-} ]]; then
		ts_ref certs rsa_cert cert 0x1c00002
		ts_ref certs rsa_handle handle 0x81010001
		ts_ref certs rsa_template template rsa
		ts_ref certs p256_cert cert 0x1c0000a
		ts_ref certs p256_template template ecc
		ts_ref certs p384_cert cert 0x1c00016
		ts_ref certs p384_handle handle 0x81010016
	fi
	if [[ -n ${TS_PORT[nocerts]:-} ]]; then
		ts_ref nocerts rsa_template template rsa
		ts_ref nocerts p256_template template ecc
	fi
	if [[ -n ${TS_PORT[persisted]:-} ]]; then
		ts_ref persisted rsa_handle handle 0x81010001
		ts_ref persisted p256_handle handle 0x81010002
	fi
	if [[ -n ${TS_PORT[ecc-certs]:-} ]]; then
		ts_ref ecc-certs rsa_template template rsa
		ts_ref ecc-certs p256_cert cert 0x1c0000a
		ts_ref ecc-certs p256_template template ecc
		ts_ref ecc-certs p384_cert cert 0x1c00016
		ts_ref ecc-certs p384_handle handle 0x81010016
	fi
	if [[ -n ${TS_PORT[ecc-only]:-} ]]; then
		ts_ref ecc-only p256_cert cert 0x1c0000a
		ts_ref ecc-only p256_template template ecc "$TS_EH_AUTH"
		ts_ref ecc-only p384_cert cert 0x1c00016
		ts_ref ecc-only p384_handle handle 0x81010016
	fi
	local host var uri
	while IFS=$'\t' read -r host var uri; do
		note "tpm_setups reference: $host ${var#ref_} $uri"
	done <"$TS_DIR/refs.tsv"
}

# ts_inventory: the set-ups as inventory hosts with their tpm_path, port and
# reference URIs, an observer host, and localhost; all over the local
# connection.
ts_inventory() {
	local name
	for name in "${!TS_PORT[@]}"; do
		printf '%s\te2e_tpm_path\ttcp:127.0.0.1:%s\n' "$name" "${TS_PORT[$name]}"
		printf '%s\te2e_tpm_port\t%s\n' "$name" "${TS_PORT[$name]}"
	done >>"$TS_DIR/refs.tsv"
	/usr/bin/python3 - "$TS_DIR" <<'PY'
import json, sys
d = sys.argv[1]
local = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
hosts = {}
with open(d + '/refs.tsv') as f:
    for line in f:
        host, var, value = line.rstrip('\n').split('\t')
        hosts.setdefault(host, dict(local))[var] = value
inv = {'all': {
    'hosts': {'localhost': dict(local)},
    'children': {
        'setups': {'hosts': hosts},
        'observers': {'hosts': {'observer': dict(local)}},
    },
}}
with open(d + '/inventory.json', 'w') as f:
    json.dump(inv, f, indent=1)
PY
}

# ts_failures: the failure cases of point 2 through ansible-playbook, each
# timed, and permission denied by running the binary as nobody.
ts_failures() {
	local busy stale refused holder ready=
	busy=$("$ROOT/tests/lib/swtpm.sh" start "$WORK/tpm" ts-busy --no-ek-cert 2>>"$TS_DIR/setup.log") || {
		fail "tpm_setups: set-up busy (swtpm on a Unix socket)" "$(tail -n 3 "$TS_DIR/setup.log")"
		return 0
	}
	# A Unix socket left by a server that is gone: bound, never listened on.
	stale="$TS_DIR/stale.sock"
	/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$stale"
	refused=1
	ts_free_port && refused=$TS_FREE

	# Keep the busy TPM's only connection taken while the playbook runs.
	coproc TS_HOLDER { exec /usr/bin/python3 "$E2E/lib/hold-socket.py" "unix:$busy" 120 2>>"$TS_DIR/setup.log"; }
	holder=$TS_HOLDER_PID
	read -r -t 5 ready <&"${TS_HOLDER[0]}" || true
	[[ $ready == held ]] || fail "tpm_setups: hold the busy TPM's socket open" "hold-socket.py did not connect; see $TS_DIR/setup.log"

	local default_absent=false
	[[ -e /dev/tpmrm0 || -e /dev/tpm0 ]] || default_absent=true
	/usr/bin/python3 - "$TS_DIR/failures-vars.json" "$TS_DIR" "$busy" "$stale" "$refused" "$default_absent" <<'PY'
import json, sys
out, d, busy, stale, refused, default_absent = sys.argv[1:7]
cases = [
    {'name': 'a device path with nothing there', 'tpm_path': d + '/no-such-dir/tpm0',
     'tried': d + '/no-such-dir/tpm0', 'missing': True},
    {'name': 'a swtpm socket that is not there', 'tpm_path': 'unix:' + d + '/no-such-dir/tpm.sock',
     'tried': d + '/no-such-dir/tpm.sock', 'missing': True},
    {'name': 'a socket file nothing listens on (swtpm gone)', 'tpm_path': 'unix:' + stale,
     'tried': stale, 'missing': False},
    {'name': 'a TCP port nothing listens on', 'tpm_path': 'tcp:127.0.0.1:' + refused,
     'tried': '127.0.0.1:' + refused, 'missing': False},
    {'name': 'a TPM in use by another client', 'tpm_path': 'unix:' + busy,
     'tried': busy, 'missing': False},
]
if default_absent == 'true':
    cases.insert(0, {'name': 'no TPM at the default paths', 'tried': '/dev/tpmrm0', 'missing': True})
with open(out, 'w') as f:
    json.dump({'ts_cases': cases, 'ts_results_file': d + '/failures.json'}, f, indent=1)
PY
	$default_absent || skip "tpm_setups: no TPM at the default paths: this machine has /dev/tpmrm0 or /dev/tpm0"
	run_playbook tpm_setups-failures "$E2E/targets/tpm_setups/failures.yml" \
		-i "$TS_DIR/inventory.json" -e "@$TS_DIR/failures-vars.json" || true
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	if [[ -f $TS_DIR/failures.json ]]; then
		local line
		while IFS= read -r line; do
			note "tpm_setups failure: $line"
		done < <(/usr/bin/python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print("%s: %s s: %s" % (r["case"], r["seconds"], r["msg"]))' "$TS_DIR/failures.json")
	fi

	# Permission denied: the binary as nobody, against a root-only socket and
	# a root-only character device (the misc major and minor of /dev/tpm0).
	local perm="$TS_DIR/perm" bin
	mkdir -p "$perm"
	chmod 0755 "$TS_DIR" "$perm"
	bin="$perm/tpm_ek_info_linux_$ARCH"
	cp "$ROOT/plugins/bin/tpm_ek_info_linux_$ARCH" "$bin"
	chmod 0755 "$bin"
	chmod 0600 "$busy"
	if ! mknod "$perm/tpm0" c 10 224 2>>"$TS_DIR/setup.log"; then
		skip "tpm_setups: permission denied on a TPM device: mknod is not allowed here ($(tail -n 1 "$TS_DIR/setup.log"))"
	else
		chmod 0600 "$perm/tpm0"
		ts_as_nobody "a root-only TPM device (0600)" "$bin" "$perm/tpm0" "$perm/tpm0"
	fi
	ts_as_nobody "a root-only swtpm socket (0600)" "$bin" "unix:$busy" "$busy"
	"$ROOT/tests/lib/swtpm.sh" stop "$WORK/tpm" ts-busy >/dev/null 2>&1 || true
}

# ts_as_nobody LABEL BINARY TPM_PATH TRIED: run the module binary as nobody
# and check that it fails within 10 s with a permission message naming TRIED.
ts_as_nobody() {
	local label=$1 bin=$2 path=$3 tried=$4 args out t0 ms verdict
	args=$(mktemp "$TS_DIR/perm/args.XXXXXX")
	printf '{"tpm_path": "%s", "set_facts": false}\n' "$path" >"$args"
	chmod 0644 "$args"
	t0=$(ts_ms)
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$bin" "$args" 2>&1) || true
	ms=$(($(ts_ms) - t0))
	verdict=$(/usr/bin/python3 - "$out" "$tried" "$ms" <<'PY'
import json, re, sys
out, tried, ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    r = json.loads(out)
except ValueError:
    print('not JSON: ' + out[:200])
    sys.exit()
msg = r.get('msg', '')
problems = []
if not r.get('failed'):
    problems.append('did not fail')
if ms >= 10000:
    problems.append('took %.2f s' % (ms / 1000))
if tried not in msg:
    problems.append('does not name ' + tried)
if 'permission' not in msg.lower():
    problems.append('does not say permission')
if '\n' in msg or not re.search(r';\s*(start|fix|check|set|run|use|stop|close|wait|retry|try|add|point|install|free)\b', msg, re.I):
    problems.append('is not one sentence saying what to do')
print('; '.join(problems) or 'ok')
print(msg)
PY
)
	note "tpm_setups failure: permission denied, $label, as nobody: $(ts_seconds "$ms") s: $(sed -n 2p <<<"$verdict")"
	if [[ $(head -n 1 <<<"$verdict") == ok ]]; then
		pass "tpm_setups: permission denied on $label fails within 10 s, naming it and what to do [nobody]"
	else
		fail "tpm_setups: permission denied on $label fails within 10 s, naming it and what to do [nobody]" "$(head -n 1 <<<"$verdict")" "msg: $(sed -n 2p <<<"$verdict")"
	fi
}

# ts_arch: every tpm_ek_info binary is a static ELF for its architecture and
# under 3 MiB, and the action plugin refuses an architecture it has no
# binary for.
ts_arch() {
	local a machine f size res max=3145728
	for a in amd64 arm64; do
		f="plugins/bin/tpm_ek_info_linux_$a"
		case $a in amd64) machine=62 ;; arm64) machine=183 ;; esac
		if [[ ! -f $ROOT/$f ]]; then
			fail "tpm_setups: $f exists" "run make build"
			continue
		fi
		if res=$("$E2E/lib/elf-check.py" "$ROOT/$f" "$machine"); then
			pass "tpm_setups: $f is a statically linked ELF with e_machine $machine (${res#ok: })"
		else
			fail "tpm_setups: $f is a statically linked ELF with e_machine $machine" "${res#not ok: }"
		fi
		size=$(stat -c %s "$ROOT/$f")
		if ((size < max)); then
			pass "tpm_setups: $f is under 3 MiB ($size bytes)"
		else
			fail "tpm_setups: $f is under 3 MiB" "$size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB), limit $max"
		fi
	done

	# A real copy of the collection (not the symlink run.sh uses) without the
	# binary for this machine.
	local other copy="$TS_DIR/copy"
	case $ARCH in amd64) other=arm64 ;; *) other=amd64 ;; esac
	mkdir -p "$copy/ansible_collections/stepfleet"
	if ! cp -a "$ROOT" "$copy/ansible_collections/stepfleet/smallstep" 2>>"$TS_DIR/setup.log"; then
		fail "tpm_setups: copy the collection" "$(tail -n 2 "$TS_DIR/setup.log")"
		return 0
	fi
	rm -f "$copy/ansible_collections/stepfleet/smallstep/plugins/bin/tpm_ek_info_linux_$ARCH"
	local saved=$ANSIBLE_COLLECTIONS_PATH
	export ANSIBLE_COLLECTIONS_PATH="$copy"
	run_playbook tpm_setups-arch "$E2E/targets/tpm_setups/arch.yml" -i "$TS_DIR/inventory.json" \
		-e "ts_arch=$ARCH" -e "ts_other=$other" -e "ts_copy=$copy" || true
	export ANSIBLE_COLLECTIONS_PATH="$saved"
}

ts_main() {
	if [[ ! -x $ROOT/plugins/bin/tpm_ek_info_linux_$ARCH ]]; then
		skip "tpm_setups: plugins/bin/tpm_ek_info_linux_$ARCH is missing (make build)"
		return 0
	fi
	local c missing=()
	for c in tpm2_getcap tpm2_nvread tpm2_readpublic tpm2_createek tpm2_flushcontext tpm2_evictcontrol \
		tpm2_nvundefine tpm2_changeauth setpriv mknod; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if ((${#missing[@]})); then
		fail "tpm_setups: prerequisites" "missing: ${missing[*]}" "run scripts/install-deps.sh"
		return 0
	fi
	TS_DIR="$WORK/ts"
	TS_PORTS=()
	declare -gA TS_PORT=()
	# The ecc-only TPM's endorsement hierarchy password: a test value, on
	# tpm2-tools' command line only.
	TS_EH_AUTH=stepfleet-e2e
	mkdir -p "$TS_DIR"
	: >"$TS_DIR/setup.log"

	ts_setups
	ts_inventory
	if ((${#TS_PORT[@]})); then
		run_playbook tpm_setups "$E2E/targets/tpm_setups/setups.yml" -i "$TS_DIR/inventory.json" || true
	fi
	ts_failures
	ts_arch

	local name
	for name in "${!TS_PORT[@]}"; do
		"$ROOT/tests/lib/swtpm.sh" stop "$WORK/tpm" "ts-$name" >/dev/null 2>&1 || true
	done
	return 0
}

ts_main

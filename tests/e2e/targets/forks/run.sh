# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: Ansible's own concurrency. An inventory of
# 100 made-up hosts is generated here (local connection, no TPM; each holds
# a well-formed EK URI, urn:ek:sha256: and the base64 of SHA-256 over its
# name), and with forks=50:
#   device.yml  each host registers with stepfleet.smallstep.device
#               (delegate_to: localhost): no error, no duplicate write; the
#               rerun is changed=0 with at most one request per device;
#   bulk.yml    the same hosts through one stepfleet.smallstep.devices task
#               (run_once): the rerun costs ceil(100/1000)+1 requests;
#   role.yml    the agent role's bulk path (smallstep_bulk_threshold 1) on
#               the three swtpm-backed hosts: check mode, the run, the rerun;
#               then a missing collection fails every host with its reason.

forks_target() {
	local dir=$WORK/forks h
	mkdir -p "$dir"
	/usr/bin/python3 - "$dir/fleet.json" <<'PY'
import base64, hashlib, json, sys
hosts = {}
for i in range(1, 101):
    name = 'fleet-%03d' % i
    digest = hashlib.sha256(name.encode()).digest()
    hosts[name] = {'e2e_uri': 'urn:ek:sha256:' + base64.b64encode(digest).decode()}
local = {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}
inv = {'all': {'vars': local, 'hosts': {'localhost': {}}, 'children': {'fleet': {'hosts': hosts}}}}
with open(sys.argv[1], 'w') as f:
    json.dump(inv, f, indent=1)
PY
	local inv=$dir/fleet.json

	run_playbook forks-device-1 "$E2E/targets/forks/device.yml" -i "$inv" -f 50 -e forks_round=1 -vvv || true
	run_playbook forks-device-2 "$E2E/targets/forks/device.yml" -i "$inv" -f 50 -e forks_round=2 || true
	run_playbook forks-bulk-1 "$E2E/targets/forks/bulk.yml" -i "$inv" -f 50 -e forks_round=1 -vvv || true
	run_playbook forks-bulk-2 "$E2E/targets/forks/bulk.yml" -i "$inv" -f 50 -e forks_round=2 || true

	# --- the role's bulk path on the swtpm-backed hosts -----------------------
	if [[ ! -x $ROOT/plugins/bin/tpm_ek_info_linux_$ARCH ]]; then
		skip "forks: the role's bulk path (plugins/bin/tpm_ek_info_linux_$ARCH is missing; make build)"
		check_secrets forks "$WORK"/logs/forks-*.log
		return 0
	fi
	local tpm=$dir/tpm.yml
	{
		echo "all:"
		echo "  hosts:"
		echo "    localhost: {}"
		echo "  children:"
		echo "    fleet_tpm:"
		echo "      hosts:"
		for h in "${HOSTS[@]}"; do
			echo "        $h:"
			echo "          smallstep_tpm_path: \"${TPM_PATH[$h]}\""
			echo "          smallstep_agent_config_path: \"$dir/hosts/$h/agent.yaml\""
			echo "          e2e_ek_uri: \"${EK_URI[$h]}\""
		done
		echo "      vars:"
		echo "        smallstep_device_collection: e2e-forks-role"
		echo "        smallstep_bulk_threshold: 1"
		echo "        smallstep_agent_install: false"
		echo "        smallstep_agent_service_enabled: false"
		echo "  vars:"
		echo "    ansible_connection: local"
		echo "    ansible_python_interpreter: /usr/bin/python3"
	} >"$tpm"
	run_playbook forks-role-check "$E2E/targets/forks/role.yml" -i "$tpm" -f 50 -e forks_round=check --check || true
	run_playbook forks-role-1 "$E2E/targets/forks/role.yml" -i "$tpm" -f 50 -e forks_round=1 -vvv || true
	run_playbook forks-role-2 "$E2E/targets/forks/role.yml" -i "$tpm" -f 50 -e forks_round=2 || true

	# A collection that does not exist: the batch's task cannot write, so
	# every host fails, each with the module's reason.
	local log=$WORK/logs/forks-role-missing.log n
	(cd "$WORK" && ansible-playbook -e "@$E2E/vars.yml" -e "@$WORK/e2e.json" -i "$tpm" -f 50 \
		-e forks_round=missing -e smallstep_device_collection=e2e-forks-missing "$E2E/targets/forks/role.yml") >"$log" 2>&1 || true
	n=$(sed -n '/^TASK \[stepfleet.smallstep.agent : Fail the hosts whose device was not registered\]/,/^TASK /p' "$log" |
		grep -E '^fatal: \[tpm-host-[0-9]\]: FAILED!' -A 3 | grep -c 'device collection \\\?"e2e-forks-missing\\\?" does not exist' || true)
	if [[ $n == "${#HOSTS[@]}" ]]; then
		pass "forks: with a missing collection every host of the batch fails with the module's reason"
	else
		fail "forks: with a missing collection every host of the batch fails with the module's reason" \
			"$n of ${#HOSTS[@]} hosts failed so (whole output: $log)"
	fi

	check_secrets forks "$WORK"/logs/forks-*.log
}

forks_target

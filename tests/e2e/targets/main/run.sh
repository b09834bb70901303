# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the main job. First args.yml: the agent
# role's checks of its variables (a bad config mode, an empty collection
# and the like) stop it before any write to the simulator or the host, and
# good values (a !vault token among them) get through; its -vvvv output is
# swept for the token.
# Then playbooks/site.yml on an inventory of the three swtpm-backed hosts,
# checked through the simulator: check mode first (reports changes, writes
# nothing), the real run, the second run (changed=0 everywhere, no write),
# verify.yml (devices under the independently computed EK URIs, workloads,
# the stand-in agent installed from the local apt repository, agent.yaml),
# check mode once converged, deregistration with
# smallstep_device_state=absent, clean-up.

main_target() {
	local why=()
	[[ -x $ROOT/plugins/bin/tpm_ek_info_linux_$ARCH ]] || why+=("plugins/bin/tpm_ek_info_linux_$ARCH is missing (make build)")
	[[ -f $ROOT/playbooks/site.yml ]] || why+=("playbooks/site.yml is missing")
	[[ -f $ROOT/roles/agent/tasks/main.yml ]] || why+=("roles/agent is missing")
	if ((${#why[@]})); then
		skip "main: ${why[*]}"
		return 0
	fi

	local fleet=$WORK/fleet.yml h
	{
		echo "all:"
		echo "  children:"
		echo "    fleet:"
		echo "      hosts:"
		for h in "${HOSTS[@]}"; do
			echo "        $h:"
			echo "          smallstep_tpm_path: \"${TPM_PATH[$h]}\""
			echo "          smallstep_agent_config_path: \"$WORK/hosts/$h/agent.yaml\""
			echo "          e2e_ek_uri: \"${EK_URI[$h]}\""
		done
		echo "  vars:"
		echo "    ansible_connection: local"
		echo "    ansible_python_interpreter: /usr/bin/python3"
		echo "    smallstep_device_collection: e2e-fleet"
		echo "    smallstep_device_data: {site: e2e}"
		echo "    smallstep_agent_apt_repo: \"$AGENT_REPO_LINE\""
		echo "    smallstep_agent_apt_key_url: \"\""
		echo "    smallstep_agent_install_throttle: 1"
		if [[ $AGENT_WAS_INSTALLED == yes ]]; then
			# Never replace a step-agent this machine already had.
			echo "    smallstep_agent_install: false"
		fi
	} >"$fleet"
	[[ $AGENT_WAS_INSTALLED == no ]] ||
		skip "main: the install path (step-agent was installed before the tests; it is left alone)"

	# --- the role's checks of its variables (args.yml) ----------------------
	# One swtpm-backed host, the agent neither installed nor started unless a
	# case says so; a case that installs fails before apt is touched, and
	# would use only the local repository.
	local args_inv=$WORK/args/inventory.yml h0=${HOSTS[0]}
	mkdir -p "$WORK/args"
	{
		echo "all:"
		echo "  hosts:"
		echo "    localhost: {}"
		echo "  children:"
		echo "    args_host:"
		echo "      hosts:"
		echo "        $h0:"
		echo "          smallstep_tpm_path: \"${TPM_PATH[$h0]}\""
		echo "          e2e_ek_uri: \"${EK_URI[$h0]}\""
		echo "  vars:"
		echo "    ansible_connection: local"
		echo "    ansible_python_interpreter: /usr/bin/python3"
		echo "    e2e_args_config: \"$WORK/args/agent.yaml\""
		echo "    smallstep_agent_config_path: \"{{ e2e_args_config }}\""
		echo "    smallstep_device_collection: e2e-args"
		echo "    smallstep_agent_install: false"
		echo "    smallstep_agent_service_enabled: false"
		echo "    smallstep_agent_apt_repo: \"$AGENT_REPO_LINE\""
		echo "    smallstep_agent_apt_key_url: \"\""
		echo "    smallstep_agent_install_throttle: 1"
	} >"$args_inv"
	# The !vault case's token: encrypt_string reads it from stdin, never from
	# the command line; the password file is removed after the run.
	local vault_pw=$WORK/args/vault-password vault_vars=$WORK/args/vault-token.yml
	(
		umask 077
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$vault_pw"
		printf '%s' "$SMALLSTEP_API_TOKEN" |
			ansible-vault encrypt_string --vault-password-file "$vault_pw" --stdin-name smallstep_api_token \
				>"$vault_vars" 2>"$WORK/logs/main-args-vault.log"
	) || fail "main-args: ansible-vault encrypt_string the token" "$(tail -n 3 "$WORK/logs/main-args-vault.log")"
	# -vvvv: everything Ansible can print, swept below for the token (plain,
	# !vault, and in a dict) whole and in pieces of 12 characters.
	run_playbook main-args "$E2E/targets/main/args.yml" -i "$args_inv" --vault-password-file "$vault_pw" -vvvv || true
	rm -f "$vault_pw"
	local secrets=$WORK/args/secrets.txt
	(
		umask 077
		printf 'API token\t%s\nwrong token\t%s\n' "$SMALLSTEP_API_TOKEN" "$E2E_WRONG_TOKEN" >"$secrets"
	)
	sweep_secrets "main-args: no token, whole or in pieces, in the -vvvv output of the cases (plain, !vault, in a dict)" \
		"$secrets" "$WORK/logs/main-args.log"
	rm -f "$secrets"

	local site=$ROOT/playbooks/site.yml w0 w1

	# site LABEL [ARGS...]: run site.yml; its output is $WORK/logs/LABEL.log.
	site() {
		local label=$1
		shift
		(cd "$WORK" && ansible-playbook -i "$fleet" "$@" "$site") >"$WORK/logs/$label.log" 2>&1
	}
	# recap LOG: the PLAY RECAP lines.
	recap() { sed -n '/^PLAY RECAP/,$p' "$1" | grep -E '^[^ ].* : ok=' || true; }
	# unchanged LOG: every host of the fleet and localhost is in the recap,
	# none changed, failed or was unreachable.
	unchanged() {
		local r
		r=$(recap "$1")
		[[ $(grep -c . <<<"$r") -ge $((${#HOSTS[@]} + 1)) ]] &&
			! grep -Ev ' changed=0 +unreachable=0 +failed=0 ' <<<"$r" >/dev/null
	}
	site_failed() {
		fail "main: $1" "(whole output: $WORK/logs/$2.log; E2E_KEEP=1 keeps it)" "$(grep -E '^(fatal|failed):' "$WORK/logs/$2.log" | head -n 3)"
	}

	# --- check mode on a fresh fleet ---------------------------------------
	w0=$(sim_writes)
	if site main-check-fresh --check; then
		pass "main: check mode on a fresh fleet succeeds"
		if [[ $(sim_writes) == "$w0" ]]; then
			pass "main: check mode writes nothing to the simulator"
		else
			fail "main: check mode writes nothing to the simulator" "writes went from $w0 to $(sim_writes)"
		fi
		if recap "$WORK/logs/main-check-fresh.log" | grep -E '^localhost ' | grep -qv ' changed=0 '; then
			pass "main: check mode reports the collection and workloads it would create"
		else
			fail "main: check mode reports the collection and workloads it would create" "$(recap "$WORK/logs/main-check-fresh.log")"
		fi
		if ls "$WORK"/hosts/*/agent.yaml >/dev/null 2>&1 ||
			{ [[ $AGENT_WAS_INSTALLED == no ]] && dpkg-query -W step-agent >/dev/null 2>&1 &&
				dpkg-query -W -f='${Status}' step-agent | grep -q 'install ok installed'; }; then
			fail "main: check mode installs and writes nothing on the hosts" "$(ls "$WORK"/hosts/*/agent.yaml 2>&1; dpkg-query -W -f='${Status}\n' step-agent 2>&1)"
		else
			pass "main: check mode installs and writes nothing on the hosts"
		fi
	else
		site_failed "check mode on a fresh fleet succeeds" main-check-fresh
	fi

	# --- the real run, at -vvv for the token check --------------------------
	if site main-run-1 -vvv; then
		pass "main: the first run succeeds"
	else
		site_failed "the first run succeeds" main-run-1
		return 0
	fi

	# --- the second run -----------------------------------------------------
	w1=$(sim_writes)
	if site main-run-2; then
		if unchanged "$WORK/logs/main-run-2.log"; then
			pass "main: the second run has changed=0 on every host"
		else
			fail "main: the second run has changed=0 on every host" "$(recap "$WORK/logs/main-run-2.log")"
		fi
		if [[ $(sim_writes) == "$w1" ]]; then
			pass "main: the second run sends the simulator no write"
		else
			fail "main: the second run sends the simulator no write" "writes went from $w1 to $(sim_writes)"
		fi
	else
		site_failed "the second run succeeds" main-run-2
	fi

	# --- what the play did --------------------------------------------------
	run_playbook main "$E2E/targets/main/verify.yml" -i "$fleet" || true

	# --- check mode once converged -----------------------------------------
	w1=$(sim_writes)
	if site main-check-converged --check && unchanged "$WORK/logs/main-check-converged.log" && [[ $(sim_writes) == "$w1" ]]; then
		pass "main: check mode on the converged fleet reports changed=0 and writes nothing"
	else
		fail "main: check mode on the converged fleet reports changed=0 and writes nothing" \
			"$(recap "$WORK/logs/main-check-converged.log")" "writes: $w1 -> $(sim_writes)"
	fi

	# --- deregistration ----------------------------------------------------
	local gone=${HOSTS[2]}
	if site main-absent -e smallstep_device_state=absent --limit "$gone"; then
		if sim_get _sim/state | /usr/bin/python3 -c '
import json, sys
devices = json.load(sys.stdin)["collections"]["e2e-fleet"]["devices"]
gone, *kept = sys.argv[1:]
sys.exit(0 if gone not in devices and all(k in devices for k in kept) else 1)' "${EK_URI[$gone]}" "${EK_URI[${HOSTS[0]}]}" "${EK_URI[${HOSTS[1]}]}"; then
			pass "main: smallstep_device_state=absent removes that host's device and only it"
		else
			fail "main: smallstep_device_state=absent removes that host's device and only it"
		fi
		w1=$(sim_writes)
		if site main-absent-2 -e smallstep_device_state=absent --limit "$gone" && [[ $(sim_writes) == "$w1" ]] &&
			! recap "$WORK/logs/main-absent-2.log" | grep -Ev ' changed=0 ' >/dev/null; then
			pass "main: removing it again changes nothing and sends no write"
		else
			fail "main: removing it again changes nothing and sends no write" "$(recap "$WORK/logs/main-absent-2.log")"
		fi
	else
		site_failed "smallstep_device_state=absent runs" main-absent
	fi

	check_secrets main "$WORK"/logs/main*.log

	# --- clean-up ----------------------------------------------------------
	if [[ $AGENT_WAS_INSTALLED == no ]]; then
		if dpkg --purge step-agent >"$WORK/logs/dpkg-remove.log" 2>&1 &&
			! dpkg-query -W -f='${Status}' step-agent 2>/dev/null | grep -q 'install ok installed'; then
			pass "main: clean-up: dpkg --purge step-agent"
		else
			fail "main: clean-up: dpkg --purge step-agent" "$(tail -n 3 "$WORK/logs/dpkg-remove.log")"
		fi
	fi
	remove_apt_sources
}

main_target

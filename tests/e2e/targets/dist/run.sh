# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the collection as operators get it. `make
# dist` builds the tarball (into the work directory); check_tarball.py
# checks its file list; it is installed offline into an empty collections
# path and verified there; then, with ANSIBLE_COLLECTIONS_PATH set to that
# path alone, ansible-doc reads the installed docs, installed.yml runs
# modules from it, and the installed playbooks/site.yml (the main play)
# registers the three swtpm hosts, twice: the second run changes nothing.

dist_target() {
	local dir=$WORK/dist log=$WORK/logs/dist-build.log tarball line
	mkdir -p "$dir"
	if make -C "$ROOT" --no-print-directory dist DIST="$dir/out" >"$log" 2>&1; then
		pass "dist: make dist builds the tarball"
	else
		fail "dist: make dist builds the tarball" "$(tail -n 5 "$log")"
		return 0
	fi
	tarball=$(ls "$dir"/out/stepfleet-smallstep-*.tar.gz)

	while IFS= read -r line; do
		case $line in
		"ok "*) pass "dist: tarball: ${line#ok }" ;;
		*) fail "dist: tarball: ${line#not ok }" ;;
		esac
	done < <(/usr/bin/python3 "$E2E/targets/dist/check_tarball.py" "$ROOT" "$tarball" 2>&1 || true)

	# --- install offline into an empty path, verify -------------------------
	local cpath=$dir/collections
	rm -rf "$cpath"
	mkdir -p "$cpath"
	log=$WORK/logs/dist-install.log
	if (cd "$dir" && ansible-galaxy collection install "$tarball" -p "$cpath" --offline) >"$log" 2>&1 &&
		[[ -x $cpath/ansible_collections/stepfleet/smallstep/plugins/bin/device_info_linux_$ARCH ]]; then
		pass "dist: ansible-galaxy collection install --offline into an empty collections path"
	else
		fail "dist: ansible-galaxy collection install --offline into an empty collections path" "$(tail -n 5 "$log")"
		return 0
	fi
	log=$WORK/logs/dist-verify.log
	if (cd "$dir" && ANSIBLE_COLLECTIONS_PATH=$cpath ansible-galaxy collection verify stepfleet.smallstep --offline -p "$cpath") >"$log" 2>&1 &&
		grep -q 'Successfully verified' "$log" && ! grep -q 'modified content' "$log"; then
		pass "dist: ansible-galaxy collection verify --offline"
	else
		fail "dist: ansible-galaxy collection verify --offline" "$(tail -n 5 "$log")"
	fi

	# --- from the installed copy --------------------------------------------
	log=$WORK/logs/dist-doc.log
	if (cd "$dir" && ANSIBLE_COLLECTIONS_PATH=$cpath ansible-doc --json -t module stepfleet.smallstep.device_info) >"$log" 2>"$log.err" &&
		/usr/bin/python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))["stepfleet.smallstep.device_info"]["doc"]
sys.exit(0 if doc["filename"].startswith(sys.argv[2] + "/") and "filters" in doc["options"] else 1)' "$log" "$cpath"; then
		pass "dist: ansible-doc reads the installed module docs"
	else
		fail "dist: ansible-doc reads the installed module docs" "$(head -c 300 "$log.err")"
	fi

	local rc=0 out counts
	log=$WORK/logs/dist.log
	(cd "$dir" && ANSIBLE_COLLECTIONS_PATH=$cpath ansible-playbook -e "@$E2E/vars.yml" -e "@$WORK/e2e.json" \
		-e "dist_collections=$cpath" -i "$INVENTORY" -vvv "$E2E/targets/dist/installed.yml") >"$log" 2>&1 || rc=$?
	out=$(/usr/bin/python3 "$E2E/lib/checks.py" dist "$log" "$rc")
	counts=$(tail -n 1 <<<"$out")
	sed '$d' <<<"$out"
	PASSED=$((PASSED + ${counts% *}))
	FAILED=$((FAILED + ${counts#* }))
	((rc == 0)) || echo "     (whole output: $log; E2E_KEEP=1 keeps it)"
	check_secrets dist "$log"

	# --- the installed main play --------------------------------------------
	local fleet=$dir/fleet.yml h site=$cpath/ansible_collections/stepfleet/smallstep/playbooks/site.yml w
	{
		echo "all:"
		echo "  children:"
		echo "    fleet:"
		echo "      hosts:"
		for h in "${HOSTS[@]}"; do
			echo "        $h:"
			echo "          smallstep_tpm_path: \"${TPM_PATH[$h]}\""
			echo "          smallstep_agent_config_path: \"$dir/hosts/$h/agent.yaml\""
		done
		echo "  vars:"
		echo "    ansible_connection: local"
		echo "    ansible_python_interpreter: /usr/bin/python3"
		echo "    smallstep_device_collection: e2e-dist-fleet"
		echo "    smallstep_agent_install: false"
		echo "    smallstep_agent_service_enabled: false"
	} >"$fleet"
	site() { (cd "$dir" && ANSIBLE_COLLECTIONS_PATH=$cpath ansible-playbook -i "$fleet" "$site") >"$WORK/logs/$1.log" 2>&1; }
	if site dist-site-1 && [[ -f $dir/hosts/${HOSTS[0]}/agent.yaml ]] &&
		sim_get _sim/state | /usr/bin/python3 -c '
import json, sys
devices = json.load(sys.stdin)["collections"]["e2e-dist-fleet"]["devices"]
sys.exit(0 if all(u in devices for u in sys.argv[1:]) else 1)' "${EK_URI[@]}"; then
		pass "dist: the installed main play registers every host under its EK URI and configures the agent"
	else
		fail "dist: the installed main play registers every host under its EK URI and configures the agent" \
			"(whole output: $WORK/logs/dist-site-1.log)" "$(grep -E '^(fatal|failed):' "$WORK/logs/dist-site-1.log" | head -n 3)"
	fi
	w=$(sim_writes)
	if site dist-site-2 && [[ $(sim_writes) == "$w" ]] &&
		! sed -n '/^PLAY RECAP/,$p' "$WORK/logs/dist-site-2.log" | grep -E ' : ok=' | grep -Ev ' changed=0 +unreachable=0 +failed=0 ' >/dev/null; then
		pass "dist: the installed main play's second run changes nothing and sends no write"
	else
		fail "dist: the installed main play's second run changes nothing and sends no write" \
			"writes $w -> $(sim_writes)" "$(sed -n '/^PLAY RECAP/,$p' "$WORK/logs/dist-site-2.log")"
	fi
	check_secrets "dist main play" "$WORK"/logs/dist-site-*.log

	# Clean-up: the fleet's collection, devices and workloads.
	(cd "$dir" && ANSIBLE_COLLECTIONS_PATH=$cpath ansible -i localhost, -c local -e "ansible_python_interpreter=/usr/bin/python3" localhost \
		-m stepfleet.smallstep.device_collection -a "slug=e2e-dist-fleet state=absent purge=true api_url=$SMALLSTEP_API_URL") \
		>"$WORK/logs/dist-cleanup.log" 2>&1 || note "dist: clean-up of e2e-dist-fleet failed; see $WORK/logs/dist-cleanup.log"
}

dist_target

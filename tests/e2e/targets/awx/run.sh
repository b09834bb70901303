# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the AWX credential type and the execution
# environment definition. awx.py checks both files and renders the
# credential type's env injectors as AWX does; main.yml then runs in the
# environment those injectors make, from inputs held in a 0600 file, with
# the outer SMALLSTEP_* variables removed. No token may appear in the
# output, and AWX's stored job_env must mask it.

awx_target() {
	local dir=$WORK/awx line
	mkdir -p "$dir"
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "awx: ${line#ok }" ;;
		*) fail "awx: ${line#not ok }" ;;
		esac
	done < <(/usr/bin/python3 "$E2E/targets/awx/awx.py" check "$ROOT" 2>&1 || true)

	# The credential's inputs, as a user would enter them in AWX: the
	# simulator's URL and token, read from the simulator's 0600 files.
	(
		umask 077
		/usr/bin/python3 -c '
import json, sys
url_file, token_file, out = sys.argv[1:4]
with open(url_file) as u, open(token_file) as t:
    inputs = {"api_url": u.read().strip(), "api_token": t.read().strip()}
with open(out, "w") as f:
    json.dump(inputs, f)' "$SIM_DIR/url" "$SIM_DIR/token" "$dir/inputs.json"
	)

	local log=$WORK/logs/awx.log rc=0 out counts
	(cd "$WORK" && /usr/bin/python3 "$E2E/targets/awx/awx.py" exec "$ROOT" "$dir/inputs.json" -- \
		ansible-playbook -e "@$E2E/vars.yml" -e "@$WORK/e2e.json" -i "$INVENTORY" -vvv \
		"$E2E/targets/awx/main.yml") >"$log" 2>&1 || rc=$?
	rm -f "$dir/inputs.json"
	[[ ${E2E_VERBOSE:-0} == 1 ]] && cat "$log"
	out=$(/usr/bin/python3 "$E2E/lib/checks.py" awx "$log" "$rc")
	counts=$(tail -n 1 <<<"$out")
	sed '$d' <<<"$out"
	PASSED=$((PASSED + ${counts% *}))
	FAILED=$((FAILED + ${counts#* }))
	((rc == 0)) || echo "     (whole output: $log; E2E_KEEP=1 keeps it)"

	if grep -q '^job_env as AWX stores it: .*"SMALLSTEP_API_TOKEN": "\*\*\*\*\*\*\*\*\*\*"' "$log"; then
		pass "awx: the job_env AWX would store for this run masks the token"
	else
		fail "awx: the job_env AWX would store for this run masks the token" "$(grep '^job_env' "$log" | sed "s/$SMALLSTEP_API_TOKEN/<token>/g")"
	fi
	check_secrets awx "$log"
}

awx_target

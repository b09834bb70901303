# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the secrets sweep (issue 4, point 3). Runs
# main.yml, faults.yml (the simulator faulting every request) and
# cleanup.yml at -vvvv against the e2e simulator and proxy.py
# (an https front for it, with a self-signed certificate, and an API that
# echoes requests back), sampling `ps -eo args` all along. Then every
# output captured (the playbooks' output, the simulator's log, the
# proxy's log, the samples) is swept (tests/robustness/sweep.py) for the
# API token, the wrong token and every enrollment token the playbooks got,
# whole or any piece of 12 characters. The proxy and the sampler run in a
# subshell whose EXIT trap stops them; the counts of passed and failed tests
# come back through a file.

secrets_cleanup() {
	local f pid
	for f in sampler proxy; do
		[[ -s $WORK/secrets/$f.pid ]] || continue
		pid=$(<"$WORK/secrets/$f.pid")
		rm -f "$WORK/secrets/$f.pid"
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	# The secrets list outlives nothing.
	rm -f "$WORK/secrets/secrets.txt" "$WORK/secrets/tokens.txt"
	return 0
}

secrets_target() {
	local dir=$WORK/secrets i port
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$dir/proxy.key" -out "$dir/proxy.crt" >"$dir/openssl.log" 2>&1; then
		fail "secrets: a certificate for the https proxy" "$(tail -n 3 "$dir/openssl.log")"
		return 1
	fi
	/usr/bin/python3 "$E2E/targets/secrets/proxy.py" "$dir/proxy.crt" "$dir/proxy.key" "${SMALLSTEP_API_URL%/api}" \
		"$dir/proxy.port" 2>"$dir/proxy.log" &
	echo $! >"$dir/proxy.pid"
	for ((i = 0; i < 100; i++)); do
		[[ -s $dir/proxy.port ]] && break
		sleep 0.05
	done
	if [[ ! -s $dir/proxy.port ]]; then
		fail "secrets: start the https proxy" "$(tail -n 3 "$dir/proxy.log")"
		return 1
	fi
	port=$(<"$dir/proxy.port")
	(while :; do
		ps -eo args
		echo --
		sleep 0.2
	done) >"$dir/ps.txt" 2>/dev/null &
	echo $! >"$dir/sampler.pid"

	run_playbook secrets "$E2E/targets/secrets/main.yml" -i "$INVENTORY" -vvvv -e secrets_proxy_port="$port" || true
	if sim_faults 1 429,500,502,503,504,reset,truncate 11; then
		run_playbook secrets-faults "$E2E/targets/secrets/faults.yml" -i "$INVENTORY" -vvvv || true
	else
		fail "secrets: turn faults on"
	fi
	sim_faults 0 || fail "secrets: turn faults off"
	run_playbook secrets-cleanup "$E2E/targets/secrets/cleanup.yml" -i "$INVENTORY" -vvvv || true
	local samples
	samples=$(grep -c '^--$' "$dir/ps.txt")
	kill "$(<"$dir/sampler.pid")" && wait "$(<"$dir/sampler.pid")" 2>/dev/null
	rm -f "$dir/sampler.pid"

	if grep -q '^\[WARNING\]: validate_certs is false' "$WORK/logs/secrets.log"; then
		pass "secrets: validate_certs false shows as a warning in the playbook's output"
	else
		fail "secrets: validate_certs false shows as a warning in the playbook's output" "no such [WARNING] in $WORK/logs/secrets.log"
	fi

	# The secrets to look for, in a 0600 file removed at the end.
	(
		umask 077
		printf 'API token\t%s\nwrong token\t%s\n' "$SMALLSTEP_API_TOKEN" "$E2E_WRONG_TOKEN" >"$dir/secrets.txt"
		[[ -f $dir/tokens.txt ]] && cat "$dir/tokens.txt" >>"$dir/secrets.txt"
	)
	local n
	n=$(grep -c '^enrollment token' "$dir/secrets.txt")
	if ((n == 5)); then
		pass "secrets: the sweep has the 5 enrollment tokens the playbooks got (env, option, module_defaults, validate_certs false, ca_path)"
	else
		fail "secrets: the sweep has the 5 enrollment tokens the playbooks got" "it has $n"
	fi
	local files=("$WORK"/logs/secrets*.log "$SIM_DIR/sim.log" "$dir/proxy.log" "$dir/ps.txt")
	sweep_secrets "secrets: no token, whole or in pieces, in the -vvvv output, the simulator's and the proxy's logs or $samples samples of the process list" \
		"$dir/secrets.txt" "${files[@]}"
	rm -f "$dir/secrets.txt" "$dir/tokens.txt"
}

rm -f "$WORK/secrets.counts"
(
	trap secrets_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	secrets_target
	echo "$PASSED $FAILED" >"$WORK/secrets.counts"
)
if [[ -s $WORK/secrets.counts ]]; then
	read -r PASSED FAILED <"$WORK/secrets.counts"
else
	fail "secrets: the target stopped before its end"
fi

# shellcheck shell=bash
# scenario.sh: the load scenario, shared by the e2e target load (run.sh
# beside this file) and tests/robustness/run.sh. Source it, then call
#
#   load_scenario DIR     run it, with its files in DIR
#   load_cleanup          stop what it started (call it from an EXIT trap)
#
# The caller provides ROOT (the collection), E2E (tests/e2e), WORK (the
# playbook logs go to $WORK/logs/load-<round>.log) and the functions pass,
# fail, note and run_playbook LABEL PLAYBOOK [ARGS...] of tests/e2e/run.sh,
# and has sourced tests/lib/sim.sh (for sim_faults).
#
# The scenario: 200 made-up hosts (load.py inventory), forks 20, each
# registering one device into the TPM collection e2e-load with the device
# module, against a simulator of its own on a fixed port of 127.0.0.1, with
# its own token (in DIR/token, 0600; the modules read it from
# SMALLSTEP_API_TOKEN):
#   round 1  10% faults (PUT _sim/faults: 429, 502, 503, 504, reset,
#            truncate and hang, a hang lasting 8s, past the 5s timeout of
#            every tenth host); once LOAD_KILL_AFTER (80) device PUTs were
#            answered the simulator gets SIGKILL, stays down LOAD_OUTAGE (3)
#            seconds and comes back on the same port and state file, with
#            the same faults from its flags (another seed). Failures in the
#            outage are expected. The state file it left must be valid and
#            hold every device write it answered (load.py durable).
#   round 2  faults still on: must converge, no host failing.
#   round 3  faults off: changed=0 on every host, no write.
# The checks of each round are in register.yml. Throughout, `ps -eo args` is
# sampled into DIR/ps.txt; at the end no captured output (playbook logs, the
# simulator's logs, the samples, the results and state kept) may hold the
# token. What is kept in DIR feeds tests/robustness/figures.py.

LOAD_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOAD_HOSTS=200
LOAD_FORKS=20
LOAD_KILL_AFTER=${LOAD_KILL_AFTER:-80}
LOAD_OUTAGE=${LOAD_OUTAGE:-3}
LOAD_SEED=${LOAD_SEED:-4}
LOAD_KINDS=429,502,503,504,reset,truncate,hang
LOAD_RATE=0.1
LOAD_HANG_FOR=8s
LOAD_DIR=
LOAD_URL=

# load_sim_up N [FLAGS...]: start simulator instance N on the scenario's
# port and state file; its log goes to DIR/sim-N.log, its PID to DIR/sim.pid.
load_sim_up() {
	local n=$1 i pid
	shift
	rm -f "$LOAD_DIR/url"
	"${SIM_BIN:-$ROOT/bin/smallstep-sim}" --listen "127.0.0.1:$(<"$LOAD_DIR/port")" \
		--token-file "$LOAD_DIR/token" --url-file "$LOAD_DIR/url" --state "$LOAD_DIR/state.json" "$@" \
		</dev/null >>"$LOAD_DIR/sim.out" 2>"$LOAD_DIR/sim-$n.log" &
	pid=$!
	# Out of the job table: its SIGKILL is the test, not news for the log.
	disown "$pid"
	echo "$pid" >"$LOAD_DIR/sim.pid"
	for ((i = 0; i < 200; i++)); do
		[[ -s $LOAD_DIR/url ]] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "simulator $n did not start; its log: $(tail -n 3 "$LOAD_DIR/sim-$n.log")" >&2
	return 1
}

# load_get PATH: GET the simulator's PATH (e.g. _sim/stats), token from the
# 0600 header file.
load_get() {
	curl -sS --fail-with-body --max-time 10 -H "@$LOAD_DIR/auth.header" "$LOAD_URL/$1"
}

# load_killer: in the background during round 1, SIGKILL the simulator once
# LOAD_KILL_AFTER device PUTs are in its log, keep the state file it left,
# and start it again after LOAD_OUTAGE seconds. Writes what it did to
# DIR/kill.txt: "killed PUTS" or "not killed".
load_killer() {
	set +e # a subshell of its own: grep -c finding nothing is no error
	local i puts=0 pid
	pid=$(<"$LOAD_DIR/sim.pid")
	for ((i = 0; i < 1800; i++)); do
		[[ -e $LOAD_DIR/round1.done ]] && break
		puts=$(grep -c 'msg=request method=PUT path=/api/collections/e2e-load/instances/' "$LOAD_DIR/sim-1.log")
		((puts >= LOAD_KILL_AFTER)) && break
		sleep 0.1
	done
	if ((puts < LOAD_KILL_AFTER)); then
		echo "not killed" >"$LOAD_DIR/kill.txt"
		return 0
	fi
	kill -KILL "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
	cp "$LOAD_DIR/state.json" "$LOAD_DIR/state-at-kill.json"
	echo "killed $puts" >"$LOAD_DIR/kill.txt"
	sleep "$LOAD_OUTAGE"
	load_sim_up 2 --fault-rate "$LOAD_RATE" --fault-kinds "$LOAD_KINDS" --fault-seed $((LOAD_SEED + 1)) \
		--hang-for "$LOAD_HANG_FOR" || echo "restart failed" >>"$LOAD_DIR/kill.txt"
}

# load_round N [ARGS...]: run register.yml's round N with the scenario's
# simulator and token.
load_round() {
	local n=$1
	shift
	SMALLSTEP_API_TOKEN=$(<"$LOAD_DIR/token") run_playbook "load-$n" "$LOAD_HERE/register.yml" \
		-i "$LOAD_DIR/inventory.json" -f "$LOAD_FORKS" \
		-e load_round="$n" -e load_dir="$LOAD_DIR" -e sim_url="$LOAD_URL" -e sim_auth_header="$LOAD_DIR/auth.header" "$@"
}

load_scenario() {
	LOAD_DIR=$1
	rm -rf "$LOAD_DIR"
	mkdir -p "$LOAD_DIR" "$WORK/logs"
	(
		umask 077
		head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$LOAD_DIR/token"
		printf 'Authorization: Bearer %s\n' "$(cat "$LOAD_DIR/token")" >"$LOAD_DIR/auth.header"
	)
	/usr/bin/python3 "$ROOT/tests/lib/free-port.py" >"$LOAD_DIR/port" || {
		fail "load: a free port"
		return 1
	}
	/usr/bin/python3 "$LOAD_HERE/load.py" inventory "$LOAD_HOSTS" "$LOAD_DIR/inventory.json"
	load_sim_up 1 || {
		fail "load: start the simulator"
		return 1
	}
	LOAD_URL=$(<"$LOAD_DIR/url")
	(while :; do
		ps -eo args
		echo --
		sleep 0.2
	done) >"$LOAD_DIR/ps.txt" 2>/dev/null &
	echo $! >"$LOAD_DIR/sampler.pid"
	local started=$SECONDS

	# --- round 1: faults, and the simulator killed and restarted -------------
	if ! SIM_DIR=$LOAD_DIR SMALLSTEP_API_URL=$LOAD_URL sim_faults "$LOAD_RATE" "$LOAD_KINDS" "$LOAD_SEED" "$LOAD_HANG_FOR"; then
		fail "load: turn faults on through PUT _sim/faults"
		return 1
	fi
	load_killer &
	echo $! >"$LOAD_DIR/killer.pid"
	note "load: round 1, $LOAD_HOSTS hosts, forks $LOAD_FORKS, ${LOAD_RATE} faults ($LOAD_KINDS), SIGKILL after $LOAD_KILL_AFTER device writes"
	load_round 1 -vvv || true
	touch "$LOAD_DIR/round1.done"
	wait "$(<"$LOAD_DIR/killer.pid")" 2>/dev/null || true
	rm -f "$LOAD_DIR/killer.pid"
	local kill
	kill=$(<"$LOAD_DIR/kill.txt")
	if [[ $kill =~ ^killed\ [0-9]+$ ]]; then
		pass "load: the simulator got SIGKILL in the middle of round 1 (after ${kill#killed } device PUTs) and came back on the same port and state file"
	else
		fail "load: the simulator got SIGKILL in the middle of round 1 and came back on the same port and state file" "$kill"
		return 1
	fi
	local out
	if out=$(/usr/bin/python3 "$LOAD_HERE/load.py" durable "$LOAD_DIR/state-at-kill.json" "$LOAD_DIR/sim-1.log"); then
		pass "load: after SIGKILL $out"
	else
		fail "load: after SIGKILL the state file is valid and holds every write answered" "$out"
	fi
	load_get _sim/stats >"$LOAD_DIR/stats-1.json"
	load_get _sim/state >"$LOAD_DIR/state-before-2.json"

	# --- round 2: faults still on; it must converge --------------------------
	note "load: round 2 (faults still on), after $((SECONDS - started))s"
	load_round 2 -vvv || true
	load_get _sim/stats >"$LOAD_DIR/stats-2.json"
	load_get _sim/state >"$LOAD_DIR/state-after-2.json"

	# --- round 3: faults off; nothing to do ----------------------------------
	note "load: round 3 (faults off), after $((SECONDS - started))s"
	SIM_DIR=$LOAD_DIR SMALLSTEP_API_URL=$LOAD_URL sim_faults 0 || fail "load: turn faults off through PUT _sim/faults"
	load_round 3 || true
	load_get _sim/stats >"$LOAD_DIR/stats-3.json"
	note "load: done after $((SECONDS - started))s"
	echo "$((SECONDS - started))" >"$LOAD_DIR/seconds"

	load_cleanup
	local leaked
	leaked=$(grep -lF -f "$LOAD_DIR/token" "$WORK"/logs/load-*.log "$LOAD_DIR"/sim-*.log "$LOAD_DIR/sim.out" \
		"$LOAD_DIR/ps.txt" "$LOAD_DIR"/results-*.json "$LOAD_DIR"/stats-*.json "$LOAD_DIR"/state*.json 2>/dev/null)
	if [[ -n $leaked ]]; then
		fail "load: no token in the playbook output, the simulator's logs, the process list samples or the results" "it is in: $(tr '\n' ' ' <<<"$leaked")"
	else
		pass "load: no token in the playbook output, the simulator's logs, $(grep -c '^--$' "$LOAD_DIR/ps.txt") samples of the process list or the results"
	fi
}

# load_cleanup: stop the process sampler, the killer and the simulator, each
# by the PID it was started with.
load_cleanup() {
	[[ -n $LOAD_DIR ]] || return 0
	local f pid i
	for f in sampler killer sim; do
		[[ -s $LOAD_DIR/$f.pid ]] || continue
		pid=$(<"$LOAD_DIR/$f.pid")
		rm -f "$LOAD_DIR/$f.pid"
		kill -0 "$pid" 2>/dev/null || continue
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

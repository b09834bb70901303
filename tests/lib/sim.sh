# shellcheck shell=bash
# sim.sh: start and stop the Smallstep API simulator (bin/smallstep-sim) for
# tests and the demo. Source it, then:
#
#   sim_start DIR [EXTRA FLAGS...]
#       Writes a fresh random token to DIR/token (mode 0600; it is passed
#       with --token-file, never on a command line, and never printed),
#       starts the simulator on a free port of 127.0.0.1 with its state in
#       DIR/state.json and its log in DIR/sim.log, waits for its URL and
#       exports SMALLSTEP_API_URL and SMALLSTEP_API_TOKEN.
#   sim_stop            stop the simulator sim_start started (idempotent)
#   sim_get PATH        GET $SMALLSTEP_API_URL/PATH with the token and print
#                       the body; fails on an HTTP error. E.g. sim_get _sim/stats
#   sim_writes          the number of writes the simulator has received
#   sim_faults RATE [KINDS [SEED [HANG_FOR]]]
#                       PUT _sim/faults: from now on RATE (0 to 1; 0 turns
#                       them off) of the API requests get a fault drawn from
#                       KINDS (comma-separated, e.g. 429,503,reset; default:
#                       the simulator's --fault-kinds), decided from SEED;
#                       HANG_FOR (e.g. 5s) is how long a hang lasts
#
# The curl calls read the Authorization header from DIR/auth.header (0600)
# so the token is never in a process's arguments either.

SIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIM_BIN=${SIM_BIN:-$SIM_ROOT/bin/smallstep-sim}
SIM_PID=
SIM_DIR=

sim_start() {
	local dir=$1
	shift
	[[ -x $SIM_BIN ]] || {
		echo "sim.sh: $SIM_BIN not found; run make build" >&2
		return 1
	}
	mkdir -p "$dir"
	SIM_DIR=$(cd "$dir" && pwd)
	(
		umask 077
		# 32 random bytes, URL-safe base64: nothing a shell or YAML would mangle.
		head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$SIM_DIR/token"
		printf 'Authorization: Bearer %s\n' "$(cat "$SIM_DIR/token")" >"$SIM_DIR/auth.header"
	)
	rm -f "$SIM_DIR/url"
	"$SIM_BIN" --listen 127.0.0.1:0 --token-file "$SIM_DIR/token" \
		--url-file "$SIM_DIR/url" --state "$SIM_DIR/state.json" "$@" \
		</dev/null >"$SIM_DIR/sim.out" 2>"$SIM_DIR/sim.log" &
	SIM_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -s $SIM_DIR/url ]] && break
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "sim.sh: the simulator exited; its log:" >&2
			tail -n 20 "$SIM_DIR/sim.log" >&2
			SIM_PID=
			return 1
		fi
		sleep 0.05
	done
	[[ -s $SIM_DIR/url ]] || {
		echo "sim.sh: the simulator wrote no URL within 10s; see $SIM_DIR/sim.log" >&2
		sim_stop
		return 1
	}
	SMALLSTEP_API_URL=$(<"$SIM_DIR/url")
	SMALLSTEP_API_TOKEN=$(<"$SIM_DIR/token")
	export SMALLSTEP_API_URL SMALLSTEP_API_TOKEN
}

sim_stop() {
	[[ -n $SIM_PID ]] || return 0
	if kill -0 "$SIM_PID" 2>/dev/null; then
		kill "$SIM_PID" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$SIM_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$SIM_PID" 2>/dev/null || true
	fi
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=
}

sim_get() {
	curl -sS --fail-with-body --max-time 10 -H "@$SIM_DIR/auth.header" "$SMALLSTEP_API_URL/$1"
}

sim_faults() {
	local rate=$1 kinds=${2:-} seed=${3:-} hang=${4:-}
	local body
	body=$(python3 - "$rate" "$kinds" "$seed" "$hang" <<'PY'
import json, sys
rate, kinds, seed, hang = sys.argv[1:5]
body = {'rate': float(rate)}
if kinds:
    body['kinds'] = kinds.split(',')
if seed:
    body['seed'] = int(seed)
if hang:
    body['hang_for'] = hang
print(json.dumps(body))
PY
	) || return 1
	local out
	out=$(curl -sS --fail-with-body --max-time 10 -H "@$SIM_DIR/auth.header" -X PUT \
		-H 'Content-Type: application/json' --data-binary "$body" "$SMALLSTEP_API_URL/_sim/faults" 2>&1) || {
		echo "sim.sh: PUT _sim/faults $body failed: $out" >&2
		return 1
	}
}

sim_writes() {
	sim_get _sim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["writes"])'
}

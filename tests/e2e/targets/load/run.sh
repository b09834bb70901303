# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the load target (issue 4, point 5). The
# scenario is in scenario.sh, shared with tests/robustness/run.sh: 200
# hosts with forks 20 register one device each under 10% injected faults,
# the simulator is killed with SIGKILL mid-run and restarted, a second run
# converges and a third, faults off, changes nothing. It runs in a subshell
# whose EXIT trap stops the simulator, the killer and the process sampler it
# started, whatever happens; the counts of passed and failed tests come back
# through a file.
# shellcheck source=tests/e2e/targets/load/scenario.sh
source "$E2E/targets/load/scenario.sh"
rm -f "$WORK/load.counts"
(
	trap load_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	load_scenario "$WORK/load"
	echo "$PASSED $FAILED" >"$WORK/load.counts"
)
if [[ -s $WORK/load.counts ]]; then
	read -r PASSED FAILED <"$WORK/load.counts"
	note "load: figures"
	/usr/bin/python3 "$ROOT/tests/robustness/figures.py" "$WORK/load" "$WORK"/logs/load-*.log || true
else
	fail "load: the scenario stopped before its end (E2E_KEEP=1 keeps $WORK/load)"
fi

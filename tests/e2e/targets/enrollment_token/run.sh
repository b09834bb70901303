# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the enrollment_token target. main.yml writes
# the tokens it generated to a 0600 file; none of them may appear in the
# playbook's -vvv output or in the simulator's log.
run_playbook enrollment_token "$E2E/targets/enrollment_token/main.yml" -i "$INVENTORY" -vvv || true
check_secrets enrollment_token "$WORK/logs/enrollment_token.log"
_tokens="$WORK/enrollment-tokens.txt"
if [[ ! -s $_tokens ]]; then
	fail "enrollment_token: no enrollment token in the output" "main.yml wrote no $_tokens"
elif grep -qF -f "$_tokens" "$WORK/logs/enrollment_token.log" "$SIM_DIR/sim.log"; then
	fail "enrollment_token: no enrollment token in the output" \
		"a generated token appears in: $(grep -lF -f "$_tokens" "$WORK/logs/enrollment_token.log" "$SIM_DIR/sim.log" | tr '\n' ' ')"
else
	pass "enrollment_token: no enrollment token in the -vvv output or the simulator's log ($(wc -l <"$_tokens") tokens)"
fi
rm -f "$_tokens"
unset _tokens

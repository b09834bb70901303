# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the enrollment_token target. main.yml writes
# the tokens it generated to a 0600 file; none of them may appear in the
# playbook's -vvv output, in what the junit and tree callbacks record of
# every task's result, or in the simulator's log.
_junit=$WORK/enrollment-junit _tree=$WORK/enrollment-tree
ANSIBLE_CALLBACKS_ENABLED=ansible.builtin.junit,ansible.builtin.tree \
	JUNIT_OUTPUT_DIR=$_junit ANSIBLE_CALLBACK_TREE_DIR=$_tree \
	run_playbook enrollment_token "$E2E/targets/enrollment_token/main.yml" -i "$INVENTORY" -vvv || true
check_secrets enrollment_token "$WORK/logs/enrollment_token.log"
_tokens="$WORK/enrollment-tokens.txt"
if [[ ! -s $_tokens ]]; then
	fail "enrollment_token: no enrollment token in the output" "main.yml wrote no $_tokens"
elif [[ ! -s $_tree/localhost ]] || ! compgen -G "$_junit/*.xml" >/dev/null; then
	fail "enrollment_token: no enrollment token in the output" "the junit or tree callback wrote nothing in $_junit, $_tree"
elif grep -rqF -f "$_tokens" "$WORK/logs/enrollment_token.log" "$SIM_DIR/sim.log" "$_junit" "$_tree"; then
	fail "enrollment_token: no enrollment token in the output" \
		"a generated token appears in: $(grep -rlF -f "$_tokens" "$WORK/logs/enrollment_token.log" "$SIM_DIR/sim.log" "$_junit" "$_tree" | tr '\n' ' ')"
else
	pass "enrollment_token: no enrollment token in the -vvv output, the junit and tree callbacks' files or the simulator's log ($(wc -l <"$_tokens") tokens)"
fi
rm -rf "$_tokens" "$_junit" "$_tree"
unset _tokens _junit _tree

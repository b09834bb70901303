# shellcheck shell=bash
# Sourced by tests/e2e/run.sh: the tpm_ek_info target, skipped while the
# module's binary has not been built.
if [[ ! -x $ROOT/plugins/bin/tpm_ek_info_linux_$ARCH ]]; then
	skip "tpm_ek_info: plugins/bin/tpm_ek_info_linux_$ARCH is missing (the module has not landed or was not built: make build)"
else
	run_playbook tpm_ek_info "$E2E/targets/tpm_ek_info/main.yml" -i "$INVENTORY" -vvv || true
	check_secrets tpm_ek_info "$WORK/logs/tpm_ek_info.log"
fi

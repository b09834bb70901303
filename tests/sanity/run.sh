#!/usr/bin/env bash
# tests/sanity/run.sh: ansible-test sanity on this collection, offline.
#
# ansible-test needs the collection at .../ansible_collections/stepfleet/smallstep,
# so the work tree (without .git and build output; plugins/bin as it is, which
# ansible-test reads as binary files, not modules) is copied into a temporary
# one. Each sanity test runs on its own (`--test NAME`) so that the summary
# says which passed. Tests that do not apply to a collection of binary
# modules are skipped by name: SKIPPED below, each with its reason in
# tests/README.md; tests/sanity/ignore-2.14.txt holds the per-file
# exceptions.
#
# ansible-test installs each test's requirements into a virtualenv with pip,
# which cannot reach its index here. The Debian packages that
# scripts/install-deps.sh installs (python3-voluptuous, yamllint,
# python3-pycodestyle, pylint; shellcheck is a program ansible-test only
# looks for) provide them instead: when a test fails because its new
# virtualenv has no pip, the virtualenv is marked as complete and as using
# the system's site packages, and the test reruns.
#
# Usage: tests/sanity/run.sh [TEST...]   (default: every test not skipped)
# Environment: SANITY_KEEP=1 keeps the temporary tree and logs.
# Exits non-zero when a test fails; the last line is "N passed, N failed, N skipped".
set -uo pipefail

# name: reason (the reasons in full are in tests/README.md)
SKIPPED=(
	# PowerShell modules and module_utils only: the collection has none.
	pslint
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
py=3.11
venvs=$HOME/.ansible/test/venv

say() { echo "sanity: $*"; }
die() {
	echo "sanity: $*" >&2
	exit 2
}

# pyenv and similar shims first on PATH make ansible-test look for other
# Pythons; the system's python3.11 is the one with the Debian packages.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
command -v ansible-test >/dev/null || die "ansible-test not found: run scripts/install-deps.sh"
[[ -x /usr/bin/python$py ]] || die "/usr/bin/python$py not found (Debian 12's python3)"

# The Debian packages the tests need (install-deps.sh): MODULE:PACKAGE:TEST,
# where MODULE is a Python module, or the shellcheck program.
# SANITY_ALLOW_MISSING=1 skips, and names, the tests whose package is
# missing instead of stopping (for a machine where apt is not an option).
need=() unavailable=()
for spec in voluptuous:python3-voluptuous:validate-modules yamllint:yamllint:yamllint \
	pycodestyle:python3-pycodestyle:pep8 pylint:pylint:pylint shellcheck:shellcheck:shellcheck; do
	IFS=: read -r mod pkg test <<<"$spec"
	if [[ $mod == shellcheck ]]; then
		command -v shellcheck >/dev/null && continue
	else
		/usr/bin/python$py -c "import $mod" 2>/dev/null && continue
	fi
	need+=("$pkg")
	unavailable+=("$test")
done
if ((${#need[@]})); then
	[[ ${SANITY_ALLOW_MISSING:-} == 1 ]] ||
		die "missing Debian packages ${need[*]}: run scripts/install-deps.sh as root (or SANITY_ALLOW_MISSING=1 to skip ${unavailable[*]})"
	say "WARNING: missing ${need[*]}: skipping ${unavailable[*]}"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smallstep-sanity.XXXXXX")
cleanup() {
	if [[ ${SANITY_KEEP:-} == 1 ]]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
coll=$tmp/ansible_collections/stepfleet/smallstep
mkdir -p "$coll" "$tmp/logs"
# What is not content: git, the simulator and build output, test output.
tar -C "$root" \
	--exclude=./.git --exclude=./bin --exclude=./build --exclude=./dist \
	--exclude=./.work --exclude=./tests/output --exclude=__pycache__ \
	--exclude='*.tar.gz' --exclude='*.pyc' \
	-cf - . | tar -C "$coll" -xf - || die "cannot copy $root to $coll"

# mark_venvs: every virtualenv that ansible-test created but could not fill
# (no marker.txt) becomes a finished one using the system's site packages.
# Prints how many it marked.
mark_venvs() {
	local n=0 d
	for d in "$venvs"/*/"$py"/*/; do
		[[ -f $d/pyvenv.cfg && ! -f $d/marker.txt ]] || continue
		sed -i 's/^include-system-site-packages = .*/include-system-site-packages = true/' "$d/pyvenv.cfg"
		grep -q '^include-system-site-packages = true' "$d/pyvenv.cfg" ||
			echo 'include-system-site-packages = true' >>"$d/pyvenv.cfg"
		echo '[]' >"$d/meta.install.json"
		echo 'true' >"$d/meta.yaml.json"
		: >"$d/marker.txt"
		n=$((n + 1))
	done
	echo "$n"
}

if (($#)); then
	tests=("$@")
else
	mapfile -t tests < <(cd "$coll" && ansible-test sanity --list-tests --python "$py" 2>/dev/null)
	((${#tests[@]})) || die "ansible-test sanity --list-tests listed nothing"
fi

start=$SECONDS
passed=() failed=() skipped=()
for t in "${tests[@]}"; do
	if [[ " ${SKIPPED[*]} " == *" $t "* ]]; then
		skipped+=("$t")
		say "$t: skipped (tests/README.md says why)"
		continue
	fi
	if [[ " ${unavailable[*]} " == *" $t "* ]]; then
		skipped+=("$t")
		say "$t: SKIPPED: its Debian package is missing"
		continue
	fi
	log=$tmp/logs/$t.log
	ok=0
	for _ in 1 2 3; do
		if (cd "$coll" && ansible-test sanity --python "$py" --test "$t" --color no) >"$log" 2>&1; then
			ok=1
			break
		fi
		# A first run of a test with requirements stops at "does not have pip
		# available"; anything else is a real failure.
		grep -q 'does not have pip available' "$log" || break
		[[ $(mark_venvs) -gt 0 ]] || break
	done
	if ((ok)); then
		passed+=("$t")
		say "$t: passed"
	else
		failed+=("$t")
		say "$t: FAILED"
		grep -v '^WARNING: Using locale' "$log" | sed 's/^/    /'
	fi
done

say "took $((SECONDS - start)) s"
((${#skipped[@]})) && say "skipped: ${skipped[*]}"
((${#failed[@]})) && say "failed: ${failed[*]}"
echo "sanity: ${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
((${#failed[@]} == 0))

#!/usr/bin/env bash
# ek-uri.sh STATE_DIR WORK_DIR: compute a swtpm's EK URI independently of
# the collection's Go code. It copies the TPM state (the running instance
# keeps its lock on the original), serves the copy on a free TCP port and
# reads the RSA 2048 EK twice with tpm2-tools:
#   - recreated from the TCG default template: tpm2_createek -G rsa
#   - from the EK certificate in NV 0x01C00002: tpm2_nvread + openssl x509
# Both public keys are hashed as DER SubjectPublicKeyInfo with openssl. It
# fails unless both agree, then prints one line:
#   urn:ek:sha256:<base64> <sha256 hex> urn:ek:sha256:<base64 of ECC P-384>
# the last from the ECC P-384 EK certificate swtpm_setup writes at NV
# 0x01C00016 ("-" when there is none).
set -euo pipefail

die() {
	echo "ek-uri.sh: $*" >&2
	exit 1
}
(($# == 2)) || die "usage: ek-uri.sh STATE_DIR WORK_DIR"
state=$1
work=$2
[[ -f $state/tpm2-00.permall ]] || die "$state holds no swtpm state (tpm2-00.permall)"
for c in swtpm tpm2_createek tpm2_nvread tpm2_flushcontext openssl; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found"
done
rm -rf "$work"
mkdir -p "$work/state"
cp "$state/tpm2-00.permall" "$work/state/"

# A port can be taken between the check and swtpm's bind: try a few.
port=
for ((i = 0; i < 5; i++)); do
	p=$(python3 "$(dirname "${BASH_SOURCE[0]}")/../../lib/free-port.py") || die "no free TCP port"
	if swtpm socket --tpm2 --tpmstate "dir=$work/state" \
		--server "type=tcp,port=$p" --ctrl "type=tcp,port=$((p + 1))" \
		--flags not-need-init,startup-clear --daemon --pid "file=$work/swtpm.pid" \
		--log "file=$work/swtpm.log"; then
		port=$p
		break
	fi
done
[[ -n $port ]] || die "swtpm did not start: $(tail -n 3 "$work/swtpm.log" 2>/dev/null | tr '\n' ' ')"
stop() {
	local pid
	pid=$(cat "$work/swtpm.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
}
trap stop EXIT
for ((i = 0; i < 100; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done

export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
{
	tpm2_createek -G rsa -c "$work/ek.ctx" -u "$work/ek-template.pem" -f pem
	tpm2_flushcontext -t
	tpm2_nvread 0x1c00002 -C o -o "$work/ek-cert.der"
} >"$work/tpm2-tools.log" 2>&1 || die "tpm2-tools failed; see $work/tpm2-tools.log"
p384=-
if tpm2_nvread 0x1c00016 -C o -o "$work/ek-p384-cert.der" >>"$work/tpm2-tools.log" 2>&1; then
	openssl x509 -inform DER -in "$work/ek-p384-cert.der" -noout -pubkey >"$work/ek-p384-pub.pem" ||
		die "the NV ECC P-384 EK certificate does not parse"
fi
openssl x509 -inform DER -in "$work/ek-cert.der" -noout -pubkey >"$work/ek-cert-pub.pem" ||
	die "the NV EK certificate does not parse"

digest() { openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -binary; }
a=$(digest "$work/ek-template.pem" | base64 -w0)
b=$(digest "$work/ek-cert-pub.pem" | base64 -w0)
[[ $a == "$b" ]] || die "the recreated EK ($a) and the certified EK ($b) differ"
hex=$(digest "$work/ek-template.pem" | od -An -tx1 | tr -d ' \n')
[[ -s $work/ek-p384-pub.pem ]] && p384=urn:ek:sha256:$(digest "$work/ek-p384-pub.pem" | base64 -w0)
echo "urn:ek:sha256:$a $hex $p384"

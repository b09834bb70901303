#!/usr/bin/env bash
# tpm-ref.sh PORT WHAT [ARGS...]: read one EK of the swtpm served on
# 127.0.0.1:PORT (swtpm socket --server type=tcp,port=PORT) with tpm2-tools,
# hash it with openssl, independently of the collection's Go code, and print
# its device ID: urn:ek:sha256:<base64 of the SHA-256 of the DER
# SubjectPublicKeyInfo>.
#
#   cert NV-INDEX            the key in the EK certificate at NV-INDEX
#                            (tpm2_nvread, openssl x509 -pubkey)
#   template rsa|ecc [AUTH]  the EK tpm2_createek recreates from the TCG
#                            default template, flushed at once; AUTH is the
#                            endorsement hierarchy's password, if it has one
#   handle HANDLE            the persistent key at HANDLE (tpm2_readpublic)
#   handles                  not a key: the TPM's transient objects, loaded
#                            sessions, persistent objects and NV indexes
#                            (tpm2_getcap), one "kind: h h ..." line each,
#                            for before-and-after comparisons
#
# Exits non-zero, with the tools' output on stderr, when anything fails.
set -euo pipefail

die() {
	echo "tpm-ref.sh: $*" >&2
	exit 1
}
(($# >= 2)) || die "usage: tpm-ref.sh PORT cert NV-INDEX | template rsa|ecc [AUTH] | handle HANDLE | handles"
port=$1
what=$2
shift 2
[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, not $port"
for c in tpm2_getcap tpm2_nvread tpm2_createek tpm2_flushcontext tpm2_readpublic openssl base64; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (Debian: apt-get install -y tpm2-tools openssl)"
done
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run CMD...: run a tool, its output kept for the error message.
run() {
	"$@" >>"$tmp/log" 2>&1 || die "$* failed: $(tail -n 3 "$tmp/log" | tr '\n' ' ')"
}

# uri PEM: the device ID of the public key in PEM.
uri() {
	local d
	d=$(openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -binary | base64 -w0) ||
		die "openssl could not hash $1"
	[[ ${#d} == 44 ]] || die "unexpected digest from openssl: $d"
	echo "urn:ek:sha256:$d"
}

transient() { tpm2_getcap handles-transient 2>>"$tmp/log" | sed -n 's/^- //p'; }

case $what in
cert)
	(($# == 1)) || die "usage: tpm-ref.sh PORT cert NV-INDEX"
	run tpm2_nvread "$1" -C o -o "$tmp/cert.der"
	openssl x509 -inform DER -in "$tmp/cert.der" -noout -pubkey >"$tmp/key.pem" ||
		die "the certificate at NV $1 does not parse"
	uri "$tmp/key.pem"
	;;
template)
	(($# == 1 || $# == 2)) || die "usage: tpm-ref.sh PORT template rsa|ecc [AUTH]"
	[[ $1 == rsa || $1 == ecc ]] || die "template takes rsa or ecc, not $1"
	auth=()
	(($# == 2)) && auth=(-P "$2")
	before=$(transient) || die "tpm2_getcap failed: $(tail -n 3 "$tmp/log")"
	rc=0
	tpm2_createek -G "$1" "${auth[@]}" -c "$tmp/ek.ctx" -u "$tmp/key.pem" -f pem >>"$tmp/log" 2>&1 || rc=$?
	# No resource manager stands between tpm2-tools and swtpm, so the EK
	# stays loaded until flushed; flush by handle whatever is new.
	for h in $(transient); do
		grep -qxF "$h" <<<"$before" || run tpm2_flushcontext "$h"
	done
	((rc == 0)) || die "tpm2_createek -G $1 failed: $(tail -n 3 "$tmp/log" | tr '\n' ' ')"
	uri "$tmp/key.pem"
	;;
handle)
	(($# == 1)) || die "usage: tpm-ref.sh PORT handle HANDLE"
	run tpm2_readpublic -c "$1" -o "$tmp/key.pem" -f pem
	uri "$tmp/key.pem"
	;;
handles)
	(($# == 0)) || die "usage: tpm-ref.sh PORT handles"
	for kind in transient loaded-session persistent nv-index; do
		list=$(tpm2_getcap "handles-$kind" 2>>"$tmp/log") || die "tpm2_getcap handles-$kind failed: $(tail -n 3 "$tmp/log")"
		echo "$kind: $(sed -n 's/^- //p' <<<"$list" | paste -sd' ')"
	done
	;;
*)
	die "unknown WHAT $what; use cert, template, handle or handles"
	;;
esac

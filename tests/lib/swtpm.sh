#!/usr/bin/env bash
# swtpm.sh: start and stop software TPM 2.0 instances (swtpm) for tests and
# demos.
#
# Usage:
#   tests/lib/swtpm.sh start   DIR NAME [--no-ek-cert] [--ecc]
#       Manufacture a TPM in DIR/NAME/state and serve it on a Unix socket.
#       Prints the server socket path, DIR/NAME/tpm.sock; the Go package
#       modules-src/internal/tpm opens it as tpm_path "unix:DIR/NAME/tpm.sock".
#   tests/lib/swtpm.sh tcp     DIR NAME PORT [--no-ek-cert] [--ecc]
#       The same, served on 127.0.0.1:PORT (control channel on PORT+1).
#       Prints "tcp:127.0.0.1:PORT". For tpm2-tools:
#       TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=PORT
#   tests/lib/swtpm.sh stop    DIR NAME     stop one instance (keeps its state)
#   tests/lib/swtpm.sh stopall DIR          stop every instance under DIR
#
# Options:
#   --no-ek-cert  manufacture without EKs or certificates: the TPM then holds
#                 nothing and readers must recreate EKs from the TCG templates.
#   --ecc         also write an ECC NIST P-256 EK certificate at NV index
#                 0x01C0000A. swtpm_setup 0.7 writes only RSA 2048
#                 (0x01C00002, EK persisted at 0x81010001) and ECC P-384
#                 (0x01C00016, EK at 0x81010016); its own --ecc flag only makes
#                 the storage key ECC. Needs tpm2-tools and openssl; a Unix
#                 instance is briefly served on a free TCP port to do it.
#
# Every instance is (re)manufactured on start, so each start gives a new TPM
# with new EKs. All instances under one DIR share a local CA (DIR/.localca):
# its root, DIR/.localca/swtpm-localca-rootca-cert.pem, and issuer,
# DIR/.localca/issuercert.pem, sign every EK certificate made there.
# Nothing outside DIR is written, so this runs as root or as any user.
#
# Files of an instance: DIR/NAME/{state/,tpm.sock,ctrl.sock,swtpm.pid,
# swtpm.log,setup.log}.

set -euo pipefail

die() {
	echo "swtpm.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "$c not found; install it (Debian: apt-get install -y swtpm swtpm-tools tpm2-tools openssl)"
	done
}

# write_config DIR: the swtpm_setup and swtpm_localca configuration files,
# pointing the local CA at DIR/.localca instead of the system-wide
# /var/lib/swtpm-localca (root-only, and shared by everything on the host).
write_config() {
	local dir=$1
	mkdir -p "$dir/.localca" "$dir/.config"
	cat >"$dir/.config/swtpm-localca.conf" <<EOF
statedir = $dir/.localca
signingkey = $dir/.localca/signkey.pem
issuercert = $dir/.localca/issuercert.pem
certserial = $dir/.localca/certserial
EOF
	cat >"$dir/.config/swtpm-localca.options" <<EOF
--platform-manufacturer stepfleet
--platform-version 2.1
--platform-model swtpm
EOF
	cat >"$dir/.config/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $dir/.config/swtpm-localca.conf
create_certs_tool_options = $dir/.config/swtpm-localca.options
active_pcr_banks = sha256
EOF
}

# manufacture DIR NAME CERTS: a fresh TPM state in DIR/NAME/state.
manufacture() {
	local dir=$1 name=$2 certs=$3
	local inst="$dir/$name"
	mkdir -p "$inst/state"
	local args=(--tpm2 --tpmstate "$inst/state" --config "$dir/.config/swtpm_setup.conf"
		--logfile "$inst/setup.log" --overwrite)
	if [[ $certs == yes ]]; then
		args+=(--create-ek-cert --create-platform-cert --lock-nvram)
	fi
	: >"$inst/setup.log"
	swtpm_setup "${args[@]}" >/dev/null ||
		die "swtpm_setup failed for $inst; see $inst/setup.log: $(tail -n 3 "$inst/setup.log" | tr '\n' ' ')"
}

# serve DIR NAME unix|PORT: run swtpm as a daemon and wait until it listens.
serve() {
	local dir=$1 name=$2 where=$3
	local inst="$dir/$name"
	local server ctrl
	rm -f "$inst/tpm.sock" "$inst/ctrl.sock" "$inst/swtpm.pid"
	if [[ $where == unix ]]; then
		server="type=unixio,path=$inst/tpm.sock"
		ctrl="type=unixio,path=$inst/ctrl.sock"
	else
		server="type=tcp,port=$where"
		ctrl="type=tcp,port=$((where + 1))"
	fi
	# startup-clear sends TPM2_Startup itself, so clients need no control
	# channel (it implies not-need-init).
	swtpm socket --tpm2 --tpmstate "dir=$inst/state" \
		--server "$server" --ctrl "$ctrl" \
		--flags not-need-init,startup-clear \
		--daemon --pid "file=$inst/swtpm.pid" --log "file=$inst/swtpm.log" ||
		die "swtpm did not start for $inst; see $inst/swtpm.log"
	local i
	for ((i = 0; i < 100; i++)); do
		if [[ $where == unix ]]; then
			[[ -S $inst/tpm.sock ]] && return 0
		elif (exec 3<>"/dev/tcp/127.0.0.1/$where") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	die "swtpm for $inst is not listening after 5s; see $inst/swtpm.log"
}

# is_ours PID INST: the process is a swtpm serving this instance's state, so
# a stale pid file never makes us kill someone else's process.
is_ours() {
	local pid=$1 inst=$2
	[[ -r /proc/$pid/cmdline ]] || return 1
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
	[[ $cmd == *swtpm* && $cmd == *"dir=$inst/state"* ]]
}

stop_instance() {
	local inst=$1
	local pidfile="$inst/swtpm.pid"
	[[ -f $pidfile ]] || return 0
	local pid
	pid=$(<"$pidfile")
	if [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" "$inst"; then
		kill "$pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			is_ours "$pid" "$inst" || break
			sleep 0.05
		done
		if is_ours "$pid" "$inst"; then
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile" "$inst/tpm.sock" "$inst/ctrl.sock"
}

# free_port: a TCP port P on 127.0.0.1 such that P and P+1 can be bound
# (see free-port.py for why binding, and why below 32768).
free_port() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/free-port.py" || die "found no free TCP port"
}

# add_ecc_p256_cert DIR NAME PORT: recreate the ECC P-256 EK from the TCG
# default template, have the local CA certify it, and store the certificate
# at 0x01C0000A with the attributes a manufacturer uses (platform-created,
# readable with an empty authorization), the way swtpm_setup stores the
# others.
add_ecc_p256_cert() {
	local dir=$1 name=$2 port=$3
	local inst="$dir/$name"
	local work="$inst/ecc-p256"
	rm -rf "$work"
	mkdir -p "$work"
	export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
	{
		tpm2_createek -G ecc -c "$work/ek.ctx" -u "$work/ek.pem" -f pem &&
			tpm2_flushcontext -t
	} >>"$inst/setup.log" 2>&1 || die "tpm2_createek failed for $inst; see $inst/setup.log"

	# The uncompressed point 04||X||Y, as hex, from the SubjectPublicKeyInfo.
	local point
	point=$(openssl pkey -pubin -in "$work/ek.pem" -outform DER | tail -c 65 | od -An -tx1 | tr -d ' \n')
	[[ ${#point} == 130 && $point == 04* ]] || die "unexpected ECC P-256 EK encoding for $inst"
	local x=${point:2:64} y=${point:66:64}

	swtpm_localca --type ek --ek "x=$x,y=$y,id=secp256r1" --dir "$work" \
		--tpm-spec-family 2.0 --tpm-spec-level 0 --tpm-spec-revision 164 \
		--tpm-manufacturer id:00001014 --tpm-model swtpm --tpm-version id:20191023 \
		--tpm2 --configfile "$dir/.config/swtpm-localca.conf" \
		--optsfile "$dir/.config/swtpm-localca.options" \
		--logfile "$inst/setup.log" || die "swtpm_localca failed for $inst; see $inst/setup.log"
	[[ -s $work/ek.cert ]] || die "swtpm_localca wrote no certificate for $inst"

	local size
	size=$(stat -c %s "$work/ek.cert")
	{
		tpm2_nvdefine 0x1c0000a -C p -s "$size" \
			-a "ppwrite|ppread|ownerread|authread|no_da|platformcreate|writedefine" &&
			tpm2_nvwrite 0x1c0000a -C p -i "$work/ek.cert" &&
			tpm2_nvwritelock 0x1c0000a -C p
	} >>"$inst/setup.log" 2>&1 || die "writing the ECC P-256 EK certificate failed for $inst; see $inst/setup.log"
	unset TPM2TOOLS_TCTI
}

cmd_start() {
	local mode=$1 dir=$2 name=$3 port=${4:-}
	shift 3
	[[ $mode == tcp ]] && shift
	local certs=yes ecc=no
	while (($#)); do
		case $1 in
		--no-ek-cert) certs=no ;;
		--ecc) ecc=yes ;;
		*) die "unknown option $1" ;;
		esac
		shift
	done
	[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "NAME must be letters, digits, '.', '_' or '-'"
	[[ $ecc == no || $certs == yes ]] || die "--ecc needs EK certificates; drop --no-ek-cert"
	need swtpm swtpm_setup swtpm_localca
	[[ $ecc == no ]] || need tpm2_createek tpm2_nvdefine tpm2_nvwrite openssl

	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	local inst="$dir/$name"
	# A Unix socket path must fit in sun_path (108 bytes).
	if [[ $mode == unix && ${#inst} -gt 95 ]]; then
		die "$inst is too long for a Unix socket path; use a shorter DIR"
	fi
	stop_instance "$inst"
	write_config "$dir"
	manufacture "$dir" "$name" "$certs"

	if [[ $mode == unix ]]; then
		if [[ $ecc == yes ]]; then
			local p
			p=$(free_port)
			serve "$dir" "$name" "$p"
			add_ecc_p256_cert "$dir" "$name" "$p"
			stop_instance "$inst"
		fi
		serve "$dir" "$name" unix
		echo "$inst/tpm.sock"
	else
		serve "$dir" "$name" "$port"
		[[ $ecc == no ]] || add_ecc_p256_cert "$dir" "$name" "$port"
		echo "tcp:127.0.0.1:$port"
	fi
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	start)
		(($# >= 2)) || usage
		cmd_start unix "$@"
		;;
	tcp)
		(($# >= 3)) || usage
		[[ $3 =~ ^[0-9]+$ && $3 -gt 0 && $3 -lt 65535 ]] || die "PORT must be a number from 1 to 65534"
		cmd_start tcp "$@"
		;;
	stop)
		(($# == 2)) || usage
		stop_instance "$(cd "$1" 2>/dev/null && pwd || echo "$1")/$2"
		;;
	stopall)
		(($# == 1)) || usage
		[[ -d $1 ]] || return 0
		local d pidfile
		d=$(cd "$1" && pwd)
		for pidfile in "$d"/*/swtpm.pid; do
			[[ -e $pidfile ]] || continue
			stop_instance "$(dirname "$pidfile")"
		done
		;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"

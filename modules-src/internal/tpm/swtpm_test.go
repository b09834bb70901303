package tpm

// Integration tests against real software TPMs. Each test manufactures its
// own swtpm in a temporary directory (with a local CA kept there, not in
// /var/lib/swtpm-localca) and kills it, by process ID, when done. They skip
// with a reason when swtpm is not installed.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

type swtpmOptions struct {
	certs bool // manufacture with EKs and EK certificates
	tcp   bool // serve on a TCP port instead of a Unix socket
	// noStartup leaves out TPM2_Startup, as a TPM before firmware ran.
	noStartup bool
}

type swtpmInstance struct {
	dir  string
	path string // tpm_path for Open
	port int    // TCP server port, for tpm2-tools
	cmd  *exec.Cmd
	// exited is closed when swtpm has exited.
	exited <-chan struct{}
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH; install swtpm, swtpm-tools, tpm2-tools and openssl (Debian: apt-get install -y swtpm swtpm-tools tpm2-tools openssl) to run the software TPM tests", tool)
		}
	}
}

// startSWTPM manufactures a TPM with swtpm_setup and serves it with
// swtpm socket, as tests/lib/swtpm.sh does.
func startSWTPM(t *testing.T, opts swtpmOptions) *swtpmInstance {
	t.Helper()
	requireTools(t, "swtpm", "swtpm_setup", "swtpm_localca")
	dir := shortTempDir(t)
	state := filepath.Join(dir, "state")
	ca := filepath.Join(dir, "localca")
	require.NoError(t, os.MkdirAll(state, 0o700))
	require.NoError(t, os.MkdirAll(ca, 0o700))
	localca, err := exec.LookPath("swtpm_localca")
	require.NoError(t, err)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	caConf := write("swtpm-localca.conf", fmt.Sprintf(
		"statedir = %[1]s\nsigningkey = %[1]s/signkey.pem\nissuercert = %[1]s/issuercert.pem\ncertserial = %[1]s/certserial\n", ca))
	caOpts := write("swtpm-localca.options", "--platform-manufacturer stepfleet\n--platform-version 2.1\n--platform-model swtpm\n")
	setupConf := write("swtpm_setup.conf", fmt.Sprintf(
		"create_certs_tool = %s\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = %s\nactive_pcr_banks = sha256\n",
		localca, caConf, caOpts))

	args := []string{"--tpm2", "--tpmstate", state, "--config", setupConf, "--overwrite"}
	if opts.certs {
		args = append(args, "--create-ek-cert", "--create-platform-cert", "--lock-nvram")
	}
	out, err := exec.Command("swtpm_setup", args...).CombinedOutput()
	require.NoError(t, err, "swtpm_setup: %s", out)

	inst := &swtpmInstance{dir: dir}
	for attempt := 0; ; attempt++ {
		server := "type=unixio,path=" + filepath.Join(dir, "tpm.sock")
		ctrl := "type=unixio,path=" + filepath.Join(dir, "ctrl.sock")
		inst.path = "unix:" + filepath.Join(dir, "tpm.sock")
		if opts.tcp {
			inst.port = freePort(t)
			server = fmt.Sprintf("type=tcp,port=%d", inst.port)
			ctrl = fmt.Sprintf("type=tcp,port=%d", inst.port+1)
			inst.path = fmt.Sprintf("tcp:127.0.0.1:%d", inst.port)
		}
		log := filepath.Join(dir, "swtpm.log")
		flags := "not-need-init,startup-clear"
		if opts.noStartup {
			flags = "not-need-init"
		}
		cmd := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state,
			"--server", server, "--ctrl", ctrl, "--flags", flags, "--log", "file="+log)
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		inst.cmd, inst.exited = cmd, exited
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		if waitListening(inst.path, exited) {
			return inst
		}
		// A TCP port taken between freePort and swtpm's bind: try another.
		cmd.Process.Kill()
		<-exited
		logText, _ := os.ReadFile(log)
		require.Less(t, attempt, 3, "swtpm did not start: %s", logText)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// swtpm's control channel takes the next port.
		if c, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil {
			c.Close()
			return port
		}
	}
}

func waitListening(path string, exited <-chan struct{}) bool {
	network, addr, _ := strings.Cut(path, ":")
	if network == "tcp" {
		addr = strings.TrimPrefix(path, "tcp:")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout(network, addr, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (s *swtpmInstance) open(t *testing.T) transport.TPMCloser {
	t.Helper()
	tpm, used, err := Open(s.path)
	require.NoError(t, err)
	require.Equal(t, s.path, used)
	t.Cleanup(func() { tpm.Close() })
	return tpm
}

func transients(t *testing.T, tpm transport.TPM) []wire.Handle {
	t.Helper()
	hs, err := listHandles(tpm, 0x80000000, 0x80FFFFFF)
	require.NoError(t, err)
	return hs
}

// templateURI recreates an EK from the TCG default template, as ReadEKs
// does when it needs to, and returns its device ID.
func templateURI(t *testing.T, tpm transport.TPM, kind string) string {
	t.Helper()
	for _, s := range lowRangeEKs {
		if s.kind == kind {
			r := &ekReader{t: tpm, nv: map[wire.Handle]bool{}, report: &Report{}}
			e, err := r.recreate(s)
			require.NoError(t, err)
			require.Empty(t, r.report.Warnings)
			return e.URI
		}
	}
	t.Fatalf("no template for %s", kind)
	return ""
}

func selectEK(t *testing.T, r *Report, kind string) *EK {
	t.Helper()
	e, err := SelectEK(r, kind)
	require.NoError(t, err)
	return e
}

func TestSWTPMWithCertificates(t *testing.T) {
	inst := startSWTPM(t, swtpmOptions{certs: true})
	tpm := inst.open(t)
	require.Empty(t, transients(t, tpm))

	report, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Empty(t, report.Warnings)
	require.Len(t, report.EKs, 3)

	rsa := selectEK(t, report, "rsa2048")
	require.Equal(t, "nv:0x01c00002", rsa.Source)
	require.Equal(t, "handle:0x81010001", rsa.VerifiedBy)
	require.Equal(t, "CN=swtpm-localca", rsa.Issuer)
	require.NotEmpty(t, rsa.NotBefore)
	require.Equal(t, "9999-12-31T23:59:59Z", rsa.NotAfter)
	require.Equal(t, rsa.URI, report.EKURI)
	// The key in the NV certificate is the key the default template gives.
	require.Equal(t, rsa.URI, templateURI(t, tpm, "rsa2048"))

	p256 := selectEK(t, report, "ecc-p256")
	require.Equal(t, "template", p256.Source)
	require.Empty(t, p256.CertificatePEM)
	require.Equal(t, p256.URI, templateURI(t, tpm, "ecc-p256"), "recreating the EK must give the same key every time")

	p384 := selectEK(t, report, "ecc-p384")
	require.Equal(t, "nv:0x01c00016", p384.Source)
	require.Equal(t, "handle:0x81010016", p384.VerifiedBy)

	for _, e := range report.EKs {
		require.NoError(t, ParseURI(e.URI))
		checkPEMs(t, e)
	}
	require.Empty(t, transients(t, tpm), "ReadEKs must not leave transient objects")

	// Reads are chunked by TPM_PT_NV_BUFFER_MAX; a small chunk reads the
	// same bytes.
	max, err := nvBufferMax(tpm)
	require.NoError(t, err)
	whole, err := readNV(tpm, 0x01C00002, max)
	require.NoError(t, err)
	chunked, err := readNV(tpm, 0x01C00002, 100)
	require.NoError(t, err)
	require.Equal(t, whole, chunked)

	t.Logf("rsa2048 %s (%s)", rsa.URI, rsa.Source)
	t.Logf("ecc-p256 %s (%s)", p256.URI, p256.Source)
	t.Logf("ecc-p384 %s (%s)", p384.URI, p384.Source)
}

// checkPEMs checks that the PEM fields hold what the other fields say.
func checkPEMs(t *testing.T, e EK) {
	t.Helper()
	block, _ := pem.Decode([]byte(e.PublicKeyPEM))
	require.NotNil(t, block)
	require.Equal(t, "PUBLIC KEY", block.Type)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, mustX509(t, pub), block.Bytes, "the PEM key is crypto/x509's encoding")
	fp, uri, err := KeyIDs(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, e.Fingerprint, fp)
	require.Equal(t, e.URI, uri)
	sum := sha256.Sum256(block.Bytes)
	require.Equal(t, FingerprintPrefix+hex.EncodeToString(sum[:]), e.Fingerprint)
	if e.CertificatePEM == "" {
		return
	}
	block, _ = pem.Decode([]byte(e.CertificatePEM))
	require.NotNil(t, block)
	require.Equal(t, "CERTIFICATE", block.Type)
	c, err := parseEKCert(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, e.URI, keyURI(c.pub))
	// swtpm's certificates are ones crypto/x509 reads: it reads the same.
	require.True(t, requireSameAsX509(t, c), "crypto/x509 refuses swtpm's EK certificate")
}

func TestSWTPMWithoutCertificates(t *testing.T) {
	inst := startSWTPM(t, swtpmOptions{})
	tpm := inst.open(t)
	before := transients(t, tpm)

	report, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Empty(t, report.Warnings)
	require.Len(t, report.EKs, 2)
	rsa := selectEK(t, report, "rsa2048")
	p256 := selectEK(t, report, "ecc-p256")
	require.Equal(t, "template", rsa.Source)
	require.Equal(t, "template", p256.Source)
	require.Empty(t, rsa.CertificatePEM)
	require.Equal(t, rsa.URI, report.EKURI)
	require.Equal(t, before, transients(t, tpm), "ReadEKs must flush the EKs it recreates")

	again, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Equal(t, report, again, "the EKs are derived from the endorsement seed, so they never change")
}

// defineNV defines an owner-created NV index and writes data to it, the
// way a manufacturer would provision an EK certificate.
func defineNV(t *testing.T, tpm transport.TPM, index tpm2.TPMHandle, authRead bool, data []byte) {
	t.Helper()
	owner := tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	_, err := tpm2.NVDefineSpace{
		AuthHandle: owner,
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex: index,
			NameAlg: tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{
				OwnerWrite: true, OwnerRead: true, AuthRead: authRead, NoDA: true, NT: tpm2.TPMNTOrdinary,
			},
			DataSize: uint16(len(data)),
		}),
	}.Execute(tpm)
	require.NoError(t, err)
	pub, err := tpm2.NVReadPublic{NVIndex: index}.Execute(tpm)
	require.NoError(t, err)
	for off := 0; off < len(data); off += 512 {
		_, err := tpm2.NVWrite{
			AuthHandle: owner,
			NVIndex:    tpm2.NamedHandle{Handle: index, Name: pub.NVName},
			Data:       tpm2.TPM2BMaxNVBuffer{Buffer: data[off:min(off+512, len(data))]},
			Offset:     uint16(off),
		}.Execute(tpm)
		require.NoError(t, err)
	}
}

func TestSWTPMECCP256Certificate(t *testing.T) {
	ca := newTestCA(t)

	t.Run("certificate of the TPM's key is verified", func(t *testing.T) {
		inst := startSWTPM(t, swtpmOptions{})
		tpm := inst.open(t)
		r := &ekReader{t: tpm, nv: map[wire.Handle]bool{}, report: &Report{}}
		ek, err := r.recreate(lowRangeEKs[1])
		require.NoError(t, err)
		block, _ := pem.Decode([]byte(ek.PublicKeyPEM))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		require.NoError(t, err)
		// Padding after the certificate, as in an oversized NV index.
		defineNV(t, tpm, 0x01C0000A, true, append(ca.issue(t, pub), make([]byte, 64)...))

		report, err := ReadEKs(tpm)
		require.NoError(t, err)
		require.Empty(t, report.Warnings)
		p256 := selectEK(t, report, "ecc-p256")
		require.Equal(t, "nv:0x01c0000a", p256.Source)
		require.Equal(t, "template", p256.VerifiedBy)
		require.Equal(t, ek.URI, p256.URI)
		require.Equal(t, "CN=Test EK CA,O=stepfleet", p256.Issuer)
		require.Empty(t, transients(t, tpm))
	})

	t.Run("certificate of another key warns", func(t *testing.T) {
		inst := startSWTPM(t, swtpmOptions{})
		tpm := inst.open(t)
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		// Owner-readable only, so the reader has to use owner authorization.
		defineNV(t, tpm, 0x01C0000A, false, ca.issue(t, &other.PublicKey))

		report, err := ReadEKs(tpm)
		require.NoError(t, err)
		p256 := selectEK(t, report, "ecc-p256")
		require.Equal(t, "nv:0x01c0000a", p256.Source)
		require.Empty(t, p256.VerifiedBy)
		require.Equal(t, mustURI(t, &other.PublicKey), p256.URI)
		require.Equal(t, []string{fmt.Sprintf(
			"the ECC P-256 EK certificate at NV 0x01c0000a is for %s, but the TPM's EK (template) is %s; reporting the certificate's key",
			p256.URI, templateURI(t, tpm, "ecc-p256"))}, report.Warnings)
	})

	t.Run("unreadable certificate warns and falls back to the template", func(t *testing.T) {
		inst := startSWTPM(t, swtpmOptions{})
		tpm := inst.open(t)
		defineNV(t, tpm, 0x01C0000A, true, []byte("not a certificate"))

		report, err := ReadEKs(tpm)
		require.NoError(t, err)
		require.Len(t, report.Warnings, 1)
		require.Contains(t, report.Warnings[0], "skipped the ECC P-256 EK certificate at NV 0x01c0000a: not a DER certificate")
		require.Equal(t, "template", selectEK(t, report, "ecc-p256").Source)
	})
}

// TestSWTPMCrossCheck compares the IDs with what tpm2-tools and openssl
// compute on their own from the same TPM.
func TestSWTPMCrossCheck(t *testing.T) {
	requireTools(t, "tpm2_createek", "tpm2_nvread", "tpm2_readpublic", "tpm2_flushcontext", "openssl")
	inst := startSWTPM(t, swtpmOptions{certs: true, tcp: true})
	tpm := inst.open(t)
	report, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Empty(t, report.Warnings)

	work := t.TempDir()
	tool := func(args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=%d", inst.port))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
	}
	file := func(name string) string { return filepath.Join(work, name) }

	// EKs recreated by tpm2_createek from the TCG default templates.
	tool("tpm2_createek", "-G", "rsa", "-c", file("rsa.ctx"), "-u", file("rsa.pem"), "-f", "pem")
	tool("tpm2_createek", "-G", "ecc", "-c", file("ecc.ctx"), "-u", file("ecc.pem"), "-f", "pem")
	tool("tpm2_flushcontext", "-t")
	// The RSA EK certificate as tpm2_nvread reads it.
	tool("tpm2_nvread", "0x1c00002", "-o", file("rsa-cert.der"))
	out, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", file("rsa-cert.der"), "-noout", "-pubkey").Output()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file("rsa-cert.pem"), out, 0o600))
	// The P-384 EK swtpm_setup persisted.
	tool("tpm2_readpublic", "-c", "0x81010016", "-f", "pem", "-o", file("p384.pem"))

	rsa := selectEK(t, report, "rsa2048")
	p256 := selectEK(t, report, "ecc-p256")
	p384 := selectEK(t, report, "ecc-p384")
	require.Equal(t, opensslURI(t, file("rsa.pem")), rsa.URI, "tpm2_createek -G rsa")
	require.Equal(t, opensslURI(t, file("rsa-cert.pem")), rsa.URI, "tpm2_nvread 0x1c00002 | openssl x509")
	require.Equal(t, opensslURI(t, file("ecc.pem")), p256.URI, "tpm2_createek -G ecc")
	require.Equal(t, opensslURI(t, file("p384.pem")), p384.URI, "tpm2_readpublic -c 0x81010016")
	t.Logf("cross-checked rsa2048 %s, ecc-p256 %s, ecc-p384 %s", rsa.URI, p256.URI, p384.URI)
}

// TestSWTPMNVTemplateAndNonce provisions EK templates and nonces in NV, as
// some manufacturers do, and checks the recreated EKs against
// tpm2_createprimary given the same template with the nonce, zero-padded,
// as its unique data. (tpm2_createek --template would be the obvious
// witness, but tpm2-tools 5.4 copies the nonce pointer instead of the
// nonce.)
func TestSWTPMNVTemplateAndNonce(t *testing.T) {
	requireTools(t, "tpm2_createprimary", "tpm2_readpublic", "tpm2_flushcontext", "openssl")
	inst := startSWTPM(t, swtpmOptions{tcp: true})
	tpm := inst.open(t)
	defaults, err := ReadEKs(tpm)
	require.NoError(t, err)

	rsaNonce, eccNonce := []byte("stepfleet RSA nonce"), []byte("stepfleet ECC nonce")
	defineNV(t, tpm, 0x01C00004, true, tpm2.Marshal(&tpm2.RSAEKTemplate))
	defineNV(t, tpm, 0x01C00003, true, rsaNonce)
	defineNV(t, tpm, 0x01C0000C, true, tpm2.Marshal(&tpm2.ECCEKTemplate))
	defineNV(t, tpm, 0x01C0000B, true, eccNonce)
	report, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Empty(t, report.Warnings)
	require.Empty(t, transients(t, tpm))

	work := t.TempDir()
	policy := filepath.Join(work, "policy-a.bin")
	require.NoError(t, os.WriteFile(policy, tpm2.RSAEKTemplate.AuthPolicy.Buffer, 0o600))
	for _, tc := range []struct {
		kind, alg, source string
		unique            []byte // RSA: the modulus buffer; ECC: X then Y
	}{
		{"rsa2048", "rsa2048:aes128cfb", "template:nv:0x01c00004+nonce:nv:0x01c00003", append(rsaNonce, make([]byte, 256-len(rsaNonce))...)},
		{"ecc-p256", "ecc256:aes128cfb", "template:nv:0x01c0000c+nonce:nv:0x01c0000b", append(eccNonce, make([]byte, 64-len(eccNonce))...)},
	} {
		e := selectEK(t, report, tc.kind)
		require.Equal(t, tc.source, e.Source)
		require.NotEqual(t, selectEK(t, defaults, tc.kind).URI, e.URI, "the nonce must change the key")

		ctxPath, pemPath := filepath.Join(work, tc.kind+".ctx"), filepath.Join(work, tc.kind+".pem")
		for _, args := range [][]string{
			{"tpm2_createprimary", "-C", "e", "-g", "sha256", "-G", tc.alg,
				"-a", "fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|decrypt",
				"-L", policy, "-u", "-", "-c", ctxPath},
			{"tpm2_readpublic", "-c", ctxPath, "-f", "pem", "-o", pemPath},
			{"tpm2_flushcontext", "-t"},
		} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = append(os.Environ(), fmt.Sprintf("TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=%d", inst.port))
			if args[0] == "tpm2_createprimary" {
				cmd.Stdin = bytes.NewReader(tc.unique)
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
		}
		require.Equal(t, opensslURI(t, pemPath), e.URI, "tpm2_createprimary -G %s -u <nonce>", tc.alg)
	}
}

// TestSWTPMGoneFailsFast kills swtpm under an open connection: the next
// read must fail at once with a message naming the socket.
func TestSWTPMGoneFailsFast(t *testing.T) {
	inst := startSWTPM(t, swtpmOptions{})
	tpm := inst.open(t)
	require.NoError(t, inst.cmd.Process.Kill())
	<-inst.exited
	sock := strings.TrimPrefix(inst.path, "unix:")

	start := time.Now()
	_, err := ReadEKs(tpm)
	require.Error(t, err)
	require.Less(t, time.Since(start), time.Second)
	// SIGKILL leaves the socket file behind.
	require.ErrorContains(t, err, "nothing is listening on TPM socket "+sock+" (stale socket of a stopped swtpm?); start swtpm or fix tpm_path")
}

func TestSWTPMNotStarted(t *testing.T) {
	inst := startSWTPM(t, swtpmOptions{noStartup: true})
	_, err := ReadEKs(inst.open(t))
	require.ErrorContains(t, err, "the TPM has not been started (no TPM2_Startup); for swtpm add --flags not-need-init,startup-clear: reading TPM_PT_NV_BUFFER_MAX: TPM_RC_INITIALIZE")
}

// TestSwtpmScript runs tests/lib/swtpm.sh the way the demo does.
func TestSwtpmScript(t *testing.T) {
	requireTools(t, "bash", "swtpm", "swtpm_setup", "swtpm_localca", "tpm2_createek", "tpm2_nvdefine", "openssl")
	script, err := filepath.Abs("../../../tests/lib/swtpm.sh")
	require.NoError(t, err)
	if _, err := os.Stat(script); err != nil {
		t.Skipf("%s not found: %v", script, err)
	}
	dir := shortTempDir(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(script, args...).Output()
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		require.NoError(t, err, "swtpm.sh %s: %s", strings.Join(args, " "), stderr)
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() { exec.Command(script, "stopall", dir).Run() })

	sock := run("start", dir, "demo", "--ecc")
	require.Equal(t, filepath.Join(dir, "demo", "tpm.sock"), sock)
	tpm, _, err := Open("unix:" + sock)
	require.NoError(t, err)
	report, err := ReadEKs(tpm)
	require.NoError(t, err)
	require.Empty(t, report.Warnings)
	rsa := selectEK(t, report, "rsa2048")
	p256 := selectEK(t, report, "ecc-p256")
	require.Equal(t, "handle:0x81010001", rsa.VerifiedBy)
	require.Equal(t, "nv:0x01c0000a", p256.Source)
	require.Equal(t, "template", p256.VerifiedBy)
	require.Equal(t, "handle:0x81010016", selectEK(t, report, "ecc-p384").VerifiedBy)

	run("stop", dir, "demo")
	_, err = os.Stat(sock)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, _, err = Open("unix:" + sock)
	require.ErrorContains(t, err, "does not exist")
}

// failingCreatePrimary passes commands to a TPM but answers the n-th
// TPM2_CreatePrimary (every one when n is 0) with a TPM error code, as a TPM
// without ECC or with an endorsement password would.
type failingCreatePrimary struct {
	transport.TPM
	n, seen int
	rc      uint32
}

func (f *failingCreatePrimary) Send(cmd []byte) ([]byte, error) {
	if len(cmd) >= 10 && binary.BigEndian.Uint32(cmd[6:10]) == uint32(tpm2.TPMCCCreatePrimary) {
		f.seen++
		if f.n == 0 || f.seen == f.n {
			rsp := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}
			binary.BigEndian.PutUint32(rsp[6:10], f.rc)
			return rsp, nil
		}
	}
	return f.TPM.Send(cmd)
}

func TestSWTPMCreatePrimaryFailures(t *testing.T) {
	inst := startSWTPM(t, swtpmOptions{})
	tpm := inst.open(t)

	t.Run("no ECC is not worth a warning", func(t *testing.T) {
		// The second CreatePrimary is the ECC P-256 EK.
		report, err := ReadEKs(&failingCreatePrimary{TPM: tpm, n: 2, rc: uint32(tpm2.TPMRCCurve)})
		require.NoError(t, err)
		require.Empty(t, report.Warnings)
		require.Len(t, report.EKs, 1)
		require.Equal(t, "rsa2048", report.EKs[0].Kind())
	})

	t.Run("endorsement password", func(t *testing.T) {
		// TPM_RC_AUTH_FAIL for session 1.
		report, err := ReadEKs(&failingCreatePrimary{TPM: tpm, n: 1, rc: 0x98E})
		require.NoError(t, err)
		require.Len(t, report.Warnings, 1)
		require.Contains(t, report.Warnings[0], "no RSA 2048 EK: creating the RSA 2048 EK from its template failed (the endorsement hierarchy has a password): TPM_RC_AUTH_FAIL")
		require.Equal(t, "ecc-p256", selectEK(t, report, "").Kind())
		require.Equal(t, report.EKs[0].URI, report.EKURI)
	})

	t.Run("no EK at all is an error", func(t *testing.T) {
		_, err := ReadEKs(&failingCreatePrimary{TPM: tpm, rc: 0x98E})
		require.ErrorContains(t, err, "found no endorsement key: no RSA 2048 EK: ")
		require.ErrorContains(t, err, "; no ECC P-256 EK: ")
	})
	require.Empty(t, transients(t, tpm))
}

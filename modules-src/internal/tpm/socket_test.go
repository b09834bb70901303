package tpm

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

func TestTCPAddresses(t *testing.T) {
	loop4 := &syscall.SockaddrInet4{Port: 2321, Addr: [4]byte{127, 0, 0, 1}}
	loop6 := &syscall.SockaddrInet6{Port: 2321, Addr: [16]byte{15: 1}}
	tests := []struct {
		addr string
		want []syscall.Sockaddr
		err  string
	}{
		{addr: "192.0.2.7:2321", want: []syscall.Sockaddr{&syscall.SockaddrInet4{Port: 2321, Addr: [4]byte{192, 0, 2, 7}}}},
		{addr: "[::1]:2321", want: []syscall.Sockaddr{loop6}},
		{addr: "[127.0.0.1]:2321", want: []syscall.Sockaddr{loop4}},
		{addr: "[::ffff:127.0.0.1]:2321", want: []syscall.Sockaddr{loop4}},
		{addr: "[fe80::1%2]:2321", want: []syscall.Sockaddr{&syscall.SockaddrInet6{Port: 2321, ZoneId: 2, Addr: [16]byte{0: 0xfe, 1: 0x80, 15: 1}}}},
		{addr: "localhost:2321", want: []syscall.Sockaddr{loop4, loop6}},
		{addr: "LocalHost:2321", want: []syscall.Sockaddr{loop4, loop6}},
		{addr: ":2321", want: []syscall.Sockaddr{loop4, loop6}},
		{addr: "localhost", err: "tpm_path tcp:localhost is not tcp:host:port: missing port"},
		{addr: "::1:2321", err: "tpm_path tcp:::1:2321 is not tcp:host:port: an IPv6 address needs brackets: tcp:[::1]:2321"},
		{addr: "[::1:2321", err: "tpm_path tcp:[::1:2321 is not tcp:host:port: missing ']' after an IPv6 address"},
		{addr: "[::1]", err: "tpm_path tcp:[::1] is not tcp:host:port: missing port after ']'"},
		{addr: "127.0.0.1:http", err: `tpm_path tcp:127.0.0.1:http: port "http" is not a number from 1 to 65535`},
		{addr: "127.0.0.1:0", err: `port "0" is not a number from 1 to 65535`},
		{addr: "127.0.0.1:65536", err: `port "65536" is not a number from 1 to 65535`},
		{addr: "tpm.example.com:2321", err: `tpm_path tcp:tpm.example.com:2321: "tpm.example.com" is not an IP address; host names other than localhost are not resolved, so write the TPM server's address (tcp:192.0.2.1:2321 or tcp:[2001:db8::1]:2321)`},
		{addr: "[fe80::1%eth0]:2321", err: `IPv6 zone "eth0": write the interface's index (ip link shows it), not its name`},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if tt.err != "" {
				start := time.Now()
				tpm, used, err := Open("tcp:" + tt.addr)
				require.ErrorContains(t, err, tt.err)
				require.Nil(t, tpm)
				require.Empty(t, used)
				require.Less(t, time.Since(start), time.Second, "no connection is tried")
				return
			}
			host, port, err := splitHostPort(tt.addr)
			require.NoError(t, err)
			got, err := tcpSockaddrs(host, port)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestUnixSocketPathTooLong(t *testing.T) {
	_, err := unixSockaddr(strings.Repeat("a", 107))
	require.NoError(t, err)

	// A socket can sit at a path too long to connect to: bind it at a short
	// one and move it.
	dir := shortTempDir(t)
	short := filepath.Join(dir, "s")
	l, err := net.Listen("unix", short)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	t.Cleanup(func() { l.Close() })
	long := filepath.Join(dir, strings.Repeat("d", 60), strings.Repeat("e", 60), "tpm.sock")
	require.NoError(t, os.MkdirAll(filepath.Dir(long), 0o700))
	require.NoError(t, os.Rename(short, long))

	_, _, err = Open("unix:" + long)
	require.EqualError(t, err, "TPM socket path "+long+" is "+strconv.Itoa(len(long))+" bytes, more than a Unix socket address holds (107); use a shorter path or a symlink to it")

	link := filepath.Join(dir, "l")
	require.NoError(t, os.Symlink(long, link))
	tpm, _, err := Open("unix:" + link)
	require.NoError(t, err, "the symlink the message suggests works")
	require.NoError(t, tpm.Close())
}

// TestOpenIPv6 connects to a TPM on the IPv6 loopback, by address and as
// "localhost" when nothing listens on the IPv4 one.
func TestOpenIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			if _, err := readCommand(conn); err == nil {
				conn.Write(response([]byte{1, 2, 3}))
			}
			conn.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, addr := range []string{"[::1]:" + port, "localhost:" + port} {
		tpm, used, err := Open("tcp:" + addr)
		require.NoError(t, err, addr)
		require.Equal(t, "tcp:"+addr, used)
		rsp, err := tpm.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
		require.NoError(t, err, addr)
		require.Equal(t, response([]byte{1, 2, 3}), rsp)
	}
}

// TestDialError pins the message for each way a connection fails.
func TestDialError(t *testing.T) {
	unix := &streamTPM{network: "unix", address: "/run/swtpm/tpm.sock"}
	tcp := &streamTPM{network: "tcp", address: "192.0.2.7:2321"}
	connect := func(errno syscall.Errno) error { return os.NewSyscallError("connect", errno) }
	tests := []struct {
		name string
		s    *streamTPM
		err  error
		want string
		is   error
	}{
		{"queue full", unix, connect(syscall.EAGAIN), "TPM socket /run/swtpm/tpm.sock stayed busy for 3s: swtpm serves one client at a time and another one holds it", syscall.EAGAIN},
		{"stale socket", unix, connect(syscall.ECONNREFUSED), "nothing is listening on TPM socket /run/swtpm/tpm.sock (stale socket of a stopped swtpm?); start swtpm or fix tpm_path", syscall.ECONNREFUSED},
		{"closed port", tcp, connect(syscall.ECONNREFUSED), "connection refused by TPM at 192.0.2.7:2321; start swtpm (swtpm socket --tpm2 --server type=tcp,port=...) or fix tpm_path", syscall.ECONNREFUSED},
		{"socket removed", unix, connect(syscall.ENOENT), "TPM socket /run/swtpm/tpm.sock does not exist; start swtpm or fix tpm_path", fs.ErrNotExist},
		{"permission", unix, connect(syscall.EACCES), "permission denied connecting to TPM socket /run/swtpm/tpm.sock; run as the user that started swtpm or as root", fs.ErrPermission},
		{"timeout", tcp, os.ErrDeadlineExceeded, "connecting to TPM at tcp 192.0.2.7:2321 timed out after 3s; check that swtpm is running and reachable", os.ErrDeadlineExceeded},
		{"other", tcp, connect(syscall.ENETUNREACH), "connecting to TPM at tcp 192.0.2.7:2321: connect: network is unreachable", syscall.ENETUNREACH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.dialError(tt.err)
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, tt.is)
		})
	}
}

// TestIOError pins the message for each way a command fails once
// connected.
func TestIOError(t *testing.T) {
	s := &streamTPM{network: "tcp", address: "192.0.2.7:2321"}
	tests := []struct {
		err  error
		want string
	}{
		{os.ErrDeadlineExceeded, "reading a response from TPM at tcp 192.0.2.7:2321 timed out after 10s; swtpm may be hung or serving another client"},
		{io.ErrUnexpectedEOF, "reading a response from TPM at tcp 192.0.2.7:2321: the connection closed early; is this swtpm's --server socket (not --ctrl)?"},
		{os.NewSyscallError("read", syscall.ECONNRESET), "reading a response from TPM at tcp 192.0.2.7:2321: read: connection reset by peer"},
	}
	for _, tt := range tests {
		require.EqualError(t, s.ioError("reading a response from", tt.err), tt.want)
	}
}

func TestConnectDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	sa := &syscall.SockaddrInet4{Port: l.Addr().(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}

	// A TCP connect waits for the handshake, which a passed deadline cuts.
	_, err = connect(sa, time.Now().Add(-time.Second))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	c, err := connect(sa, time.Now().Add(time.Second))
	require.NoError(t, err)
	require.NoError(t, c.Close())
}

// TestLargeWrite writes more than a socket buffers, so that writing waits
// for the peer to read.
func TestLargeWrite(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "big.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	got := make(chan int64, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer conn.Close()
		time.Sleep(50 * time.Millisecond) // let the writer fill the buffer
		n, _ := io.Copy(io.Discard, conn)
		got <- n
	}()
	sa, err := unixSockaddr(sock)
	require.NoError(t, err)
	c, err := connect(sa, time.Now().Add(5*time.Second))
	require.NoError(t, err)
	data := make([]byte, 8<<20)
	n, err := c.Write(data)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
	require.NoError(t, c.Close())
	require.EqualValues(t, len(data), <-got)
}

// TestDeviceRetry answers TPM_RC_RETRY twice, as a busy TPM does: the
// device transport asks again and returns the third answer.
func TestDeviceRetry(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { peer.Close() })
	d := &deviceTPM{fd: fds[0]}
	t.Cleanup(func() { d.Close() })

	retry := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x09, 0x22}
	commands := make(chan int, 1)
	go func() {
		buf := make([]byte, 64)
		n := 0
		for i := 0; i < 3; i++ {
			if _, err := peer.Read(buf); err != nil {
				break
			}
			n++
			if i < 2 {
				peer.Write(retry)
			} else {
				peer.Write(response([]byte{7}))
			}
		}
		commands <- n
	}()
	rc, err := wire.ResponseCode(retry)
	require.NoError(t, err)
	require.ErrorIs(t, rc, wire.RCRetry)

	rsp, err := d.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
	require.NoError(t, err)
	require.Equal(t, response([]byte{7}), rsp)
	require.Equal(t, 3, <-commands)
}

// TestDevice opens a character device that is no TPM: opening works, as
// for any device, and the first command says what is wrong.
func TestDevice(t *testing.T) {
	tpm, used, err := Open("/dev/null")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no /dev/null here")
	}
	require.NoError(t, err)
	require.Equal(t, "/dev/null", used)
	t.Cleanup(func() { tpm.Close() })
	_, err = ReadEKs(tpm)
	require.EqualError(t, err, "reading TPM_PT_NV_BUFFER_MAX: unmarshalling TPM response: truncated")
}

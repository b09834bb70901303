package tpm

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// shortTempDir returns a directory short enough for Unix socket paths
// (108 bytes), which t.TempDir() with a long test name may exceed.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tpm")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestOpenErrors(t *testing.T) {
	dir := shortTempDir(t)
	regular := filepath.Join(dir, "regular")
	require.NoError(t, os.WriteFile(regular, nil, 0o600))

	// A socket file nobody listens on, as a killed swtpm leaves behind.
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())

	// A TCP port nobody listens on.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := tl.Addr().String()
	require.NoError(t, tl.Close())

	tests := []struct {
		name string
		path string
		err  string
		is   error
	}{
		{"missing device", filepath.Join(dir, "tpm0"), "no TPM found at " + filepath.Join(dir, "tpm0") + "; check tpm_path", fs.ErrNotExist},
		{"regular file as device", regular, regular + " is not a TPM device; for swtpm write unix:" + regular + " or tcp:host:port", nil},
		{"missing socket", "unix:" + filepath.Join(dir, "tpm.sock"), "TPM socket " + filepath.Join(dir, "tpm.sock") + " does not exist; start swtpm", fs.ErrNotExist},
		{"regular file as socket", "unix:" + regular, regular + " is not a Unix socket", nil},
		{"stale socket", "unix:" + stale, "nothing is listening on TPM socket " + stale, nil},
		{"empty socket path", "unix:", "names no socket", nil},
		{"closed TCP port", "tcp:" + closedPort, "connection refused by TPM at " + closedPort + "; start swtpm", nil},
		{"TCP without port", "tcp:localhost", "tpm_path tcp:localhost is not tcp:host:port", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tpm, used, err := Open(tt.path)
			require.ErrorContains(t, err, tt.err)
			require.Nil(t, tpm)
			require.Empty(t, used)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Less(t, time.Since(start), time.Second, "errors must come fast")
		})
	}
}

func TestOpenDefault(t *testing.T) {
	dir := shortTempDir(t)
	saved := defaultDevices
	t.Cleanup(func() { defaultDevices = saved })

	defaultDevices = [2]string{filepath.Join(dir, "tpmrm0"), filepath.Join(dir, "tpm0")}
	_, _, err := Open("")
	require.EqualError(t, err, "no TPM found at "+defaultDevices[0]+" or "+defaultDevices[1]+
		"; set tpm_path to a TPM device, unix:/path/to/swtpm.sock or tcp:host:port")
	require.ErrorIs(t, err, fs.ErrNotExist)

	// Anything but absence of the first device is reported, not skipped.
	require.NoError(t, os.WriteFile(defaultDevices[0], nil, 0o600))
	_, _, err = Open("")
	require.ErrorContains(t, err, defaultDevices[0]+" is not a TPM device")
}

// fakeTPM serves one connection at a time like swtpm, answering each
// command with handler's bytes.
func fakeTPM(t *testing.T, handler func(conn net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			handler(conn)
			conn.Close()
		}
	}()
	return l.Addr().String()
}

// readCommand reads one TPM command by the size in its header.
func readCommand(conn net.Conn) ([]byte, error) {
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		return nil, err
	}
	rest := make([]byte, binary.BigEndian.Uint32(hdr[2:6])-10)
	_, err := io.ReadFull(conn, rest)
	return append(hdr, rest...), err
}

func response(body []byte) []byte {
	rsp := make([]byte, 10, 10+len(body))
	binary.BigEndian.PutUint16(rsp[0:2], 0x8001)
	binary.BigEndian.PutUint32(rsp[2:6], uint32(10+len(body)))
	return append(rsp, body...)
}

func TestStreamTPM(t *testing.T) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7a, 0xab, 0xcd}
	body := make([]byte, 3000)
	for i := range body {
		body[i] = byte(i)
	}

	t.Run("response split across writes", func(t *testing.T) {
		addr := fakeTPM(t, func(conn net.Conn) {
			got, err := readCommand(conn)
			if err != nil || string(got) != string(cmd) {
				return
			}
			rsp := response(body)
			for len(rsp) > 0 {
				n := min(len(rsp), 97)
				conn.Write(rsp[:n])
				rsp = rsp[n:]
				time.Sleep(time.Millisecond / 10)
			}
		})
		tpm, used, err := Open("tcp:" + addr)
		require.NoError(t, err)
		require.Equal(t, "tcp:"+addr, used)
		got, err := tpm.Send(cmd)
		require.NoError(t, err)
		require.Equal(t, response(body), got)
		require.NoError(t, tpm.Close())
	})

	t.Run("a silent first answer means the TPM is in use", func(t *testing.T) {
		saved := firstAnswerTimeout
		firstAnswerTimeout = 200 * time.Millisecond
		t.Cleanup(func() { firstAnswerTimeout = saved })
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		addr := fakeTPM(t, func(conn net.Conn) {
			if _, err := readCommand(conn); err == nil {
				<-release
			}
		})
		tpm, _, err := Open("tcp:" + addr)
		require.NoError(t, err)
		start := time.Now()
		_, err = tpm.Send(cmd)
		require.ErrorContains(t, err, "TPM at tcp "+addr+" took the connection but did not answer within 200ms: another process is probably using it")
		require.Less(t, time.Since(start), 2*time.Second)
	})

	t.Run("hung peer times out after it answered once", func(t *testing.T) {
		saved := ioTimeout
		ioTimeout = 200 * time.Millisecond
		t.Cleanup(func() { ioTimeout = saved })
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		var calls atomic.Int32
		addr := fakeTPM(t, func(conn net.Conn) {
			if _, err := readCommand(conn); err != nil {
				return
			}
			if calls.Add(1) == 1 {
				_, _ = conn.Write(response(nil))
				return
			}
			<-release
		})
		tpm, _, err := Open("tcp:" + addr)
		require.NoError(t, err)
		_, err = tpm.Send(cmd)
		require.NoError(t, err)
		start := time.Now()
		_, err = tpm.Send(cmd)
		require.ErrorContains(t, err, "reading a response from TPM at tcp "+addr+" timed out after 200ms")
		require.Less(t, time.Since(start), 2*time.Second)
	})

	t.Run("peer closes early", func(t *testing.T) {
		addr := fakeTPM(t, func(conn net.Conn) {
			readCommand(conn)
			conn.Write([]byte{0x80, 0x01, 0, 0})
		})
		tpm, _, err := Open("tcp:" + addr)
		require.NoError(t, err)
		_, err = tpm.Send(cmd)
		require.ErrorContains(t, err, "the connection closed early; is this swtpm's --server socket (not --ctrl)?")
	})

	t.Run("nonsense size", func(t *testing.T) {
		addr := fakeTPM(t, func(conn net.Conn) {
			readCommand(conn)
			conn.Write([]byte{0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
		})
		tpm, _, err := Open("tcp:" + addr)
		require.NoError(t, err)
		_, err = tpm.Send(cmd)
		require.ErrorContains(t, err, "invalid response size 4294967295")
	})
}

// TestUnixSocketBusy fills a Unix socket's accept queue, as a swtpm serving
// another client does: connecting waits up to the dial timeout, then says so.
func TestUnixSocketBusy(t *testing.T) {
	saved := dialTimeout
	dialTimeout = 200 * time.Millisecond
	t.Cleanup(func() { dialTimeout = saved })

	sock := filepath.Join(shortTempDir(t), "busy.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}))
	// A backlog of 0 queues one connection; nobody ever accepts it.
	require.NoError(t, syscall.Listen(fd, 0))

	tpm, _, err := Open("unix:" + sock) // its probe takes the one place
	require.NoError(t, err)
	start := time.Now()
	_, err = tpm.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
	require.EqualError(t, err, "TPM socket "+sock+" stayed busy for 200ms: swtpm serves one client at a time and another one holds it")
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestOpenErrorUnwraps(t *testing.T) {
	err := &openError{msg: "sentence", cause: fs.ErrPermission}
	require.EqualError(t, err, "sentence")
	require.True(t, errors.Is(err, fs.ErrPermission))
}

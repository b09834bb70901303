// Package tpm reads the endorsement keys (EKs) of a TPM 2.0, read-only, and
// derives the device IDs Smallstep knows TPM devices by.
//
// Only reading commands are sent. The one exception is TPM2_CreatePrimary,
// which recreates an EK from its TCG template when the TPM keeps neither a
// certificate nor a persistent copy; the resulting transient object is
// flushed before ReadEKs returns.
package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

// Default device paths, in the order Open tries them. The resource manager
// (tpmrm0) comes first: it lets other TPM users work at the same time and
// flushes anything a crashed client leaves behind.
const (
	DeviceRM  = "/dev/tpmrm0"
	DeviceRaw = "/dev/tpm0"
)

// defaultDevices is what Open("") tries; a variable so tests can point it
// at files they control.
var defaultDevices = [2]string{DeviceRM, DeviceRaw}

// Timeouts for socket TPMs (swtpm). A software TPM answers in milliseconds;
// generating an RSA primary key is the slowest thing asked of it, so I/O gets
// more room than the connect.
var (
	dialTimeout = 3 * time.Second
	ioTimeout   = 10 * time.Second
	// firstAnswerTimeout bounds the wait for the first answer. swtpm
	// accepts a connection into its queue while it serves another client,
	// and then says nothing; the first command is a quick GetCapability on
	// any TPM, so a silence this long means the TPM is in use. Later
	// commands get ioTimeout: creating an RSA key takes seconds on chips.
	firstAnswerTimeout = 3 * time.Second
)

// TPMCloser is a connection to a TPM. Its method set is that of go-tpm's
// transport.TPMCloser, so go-tpm can use it too (the tests do).
type TPMCloser interface {
	wire.TPM
	io.Closer
}

// Open connects to the TPM named by path and returns the connection and the
// path it used, spelled so that it can be passed to Open again:
//
//   - "" tries DeviceRM, then DeviceRaw;
//   - "unix:/path/to/tpm.sock" is a swtpm server socket
//     (swtpm socket --server type=unixio,path=...);
//   - "tcp:host:port" is a swtpm server port
//     (swtpm socket --server type=tcp,port=...); host is an IPv4 address,
//     an IPv6 address in brackets or localhost, as names are not resolved;
//   - anything else is a TPM character device.
//
// Errors say what was tried and what to do about it.
func Open(path string) (TPMCloser, string, error) {
	switch {
	case path == "":
		return openDefault()
	case strings.HasPrefix(path, "unix:"):
		return openUnix(strings.TrimPrefix(path, "unix:"))
	case strings.HasPrefix(path, "tcp:"):
		return openTCP(strings.TrimPrefix(path, "tcp:"))
	default:
		t, err := openDevice(path)
		if err != nil {
			return nil, "", err
		}
		return t, path, nil
	}
}

func openDefault() (TPMCloser, string, error) {
	for _, p := range defaultDevices {
		t, err := openDevice(p)
		if err == nil {
			return t, p, nil
		}
		// Only absence sends us on to the next device: a permission or busy
		// error on tpmrm0 is the one the user needs to fix.
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	return nil, "", &openError{fmt.Sprintf("no TPM found at %s or %s; set tpm_path to a TPM device, unix:/path/to/swtpm.sock or tcp:host:port",
		defaultDevices[0], defaultDevices[1]), fs.ErrNotExist}
}

func openDevice(path string) (TPMCloser, error) {
	t, err := openCharDevice(path)
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, &openError{fmt.Sprintf("no TPM found at %s; check tpm_path", path), err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &openError{fmt.Sprintf("permission denied opening %s; run as root or as a member of the tss group", path), err}
	case errors.Is(err, syscall.EBUSY):
		return nil, &openError{fmt.Sprintf("%s is busy: another program (such as tpm2-abrmd) holds it; use %s instead", path, DeviceRM), err}
	case errors.Is(err, errNotDevice):
		return nil, &openError{fmt.Sprintf("%s is not a TPM device; for swtpm write unix:%s or tcp:host:port", path, path), err}
	default:
		return nil, fmt.Errorf("opening TPM %s: %w", path, err)
	}
}

// errNotDevice means that a TPM path names a file that is not a device.
var errNotDevice = errors.New("TPM file is not a device")

// deviceTPM is a TPM character device, /dev/tpmrm0 or /dev/tpm0. The file
// is opened blocking, so the kernel runs each command as it is written and
// the read that follows returns the whole response (linux
// drivers/char/tpm/tpm-dev-common.c).
type deviceTPM struct {
	fd int
}

func openCharDevice(path string) (*deviceTPM, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeDevice == 0 {
		return nil, fmt.Errorf("%w: %s (%s)", errNotDevice, fi.Mode(), path)
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &deviceTPM{fd: fd}, nil
}

// Send implements wire.TPM. A TPM that answers TPM_RC_RETRY is asked
// again after 1, 2, 4... ms, 11 times at most, as go-tpm's device
// transport does.
func (d *deviceTPM) Send(cmd []byte) ([]byte, error) {
	for backoff := 0; ; backoff++ {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Write(d.fd, cmd) })
		if err != nil {
			return nil, os.NewSyscallError("write", err)
		}
		if n != len(cmd) {
			return nil, fmt.Errorf("the TPM took %d of the command's %d bytes", n, len(cmd))
		}
		rsp := make([]byte, maxResponseSize)
		n, err = ignoringEINTR(func() (int, error) { return syscall.Read(d.fd, rsp) })
		if err != nil {
			return nil, os.NewSyscallError("read", err)
		}
		rsp = rsp[:n]
		if rc, err := wire.ResponseCode(rsp); err == nil && rc == wire.RCRetry && backoff < 11 {
			time.Sleep(time.Millisecond << backoff)
			continue
		}
		return rsp, nil
	}
}

// Close implements io.Closer.
func (d *deviceTPM) Close() error {
	return os.NewSyscallError("close", syscall.Close(d.fd))
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// openError is a finished sentence for the user that still lets callers
// test the cause with errors.Is (fs.ErrNotExist, fs.ErrPermission, ...).
type openError struct {
	msg   string
	cause error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.cause }

func openUnix(path string) (TPMCloser, string, error) {
	used := "unix:" + path
	if path == "" {
		return nil, "", errors.New(`tpm_path "unix:" names no socket; write unix:/path/to/tpm.sock`)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", &openError{fmt.Sprintf("TPM socket %s does not exist; start swtpm (swtpm socket --tpm2 --server type=unixio,path=%s ...) or fix tpm_path", path, path), err}
	case errors.Is(err, fs.ErrPermission):
		return nil, "", &openError{fmt.Sprintf("permission denied reaching TPM socket %s; run as the user that started swtpm or as root", path), err}
	case err != nil:
		return nil, "", fmt.Errorf("TPM socket %s: %w", path, err)
	case fi.Mode()&fs.ModeSocket == 0:
		return nil, "", fmt.Errorf("%s is not a Unix socket; point tpm_path at swtpm's --server socket", path)
	}
	sa, err := unixSockaddr(path)
	if err != nil {
		return nil, "", err
	}
	t := &streamTPM{network: "unix", address: path, addrs: []syscall.Sockaddr{sa}}
	if err := t.probe(); err != nil {
		return nil, "", err
	}
	return t, used, nil
}

func openTCP(addr string) (TPMCloser, string, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("tpm_path tcp:%s is not tcp:host:port: %w", addr, err)
	}
	addrs, err := tcpSockaddrs(host, port)
	if err != nil {
		return nil, "", fmt.Errorf("tpm_path tcp:%s: %w", addr, err)
	}
	t := &streamTPM{network: "tcp", address: addr, addrs: addrs}
	if err := t.probe(); err != nil {
		return nil, "", err
	}
	return t, "tcp:" + addr, nil
}

// streamTPM sends raw TPM 2.0 commands over a stream socket, one connection
// per command, which is what swtpm's server channel expects on both Unix and
// TCP sockets.
//
// go-tpm has linuxudstpm for Unix sockets, but it cannot time out and it
// takes whatever a single read returns as the whole response; its tcp
// package speaks the Microsoft simulator's framing, which swtpm's server
// channel does not. Every connection here has a deadline, so a hung peer
// fails in seconds, and the response is read by the size in its header.
type streamTPM struct {
	network string // "unix" or "tcp"
	address string // as the user wrote it, for messages
	// addrs are tried in order until one connects ("localhost" has two).
	addrs []syscall.Sockaddr
	// answered is set once the TPM has answered a command.
	answered bool
}

// Responses are at most a few KiB (TPM 2.0 Part 2 MAX_RESPONSE_SIZE is
// typically 4096); the limit only stops a confused peer from making us
// allocate without bound.
const maxResponseSize = 1 << 16

// responseHeaderSize is tag (2), responseSize (4) and responseCode (4): TPM
// 2.0 Part 1, section 18.
const responseHeaderSize = 10

// Send implements transport.TPM.
func (s *streamTPM) Send(cmd []byte) ([]byte, error) {
	conn, err := s.dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	wait := ioTimeout
	if !s.answered {
		wait = firstAnswerTimeout
	}
	conn.deadline = time.Now().Add(wait)
	if _, err := conn.Write(cmd); err != nil {
		return nil, s.ioError("sending a command to", err)
	}
	rsp := make([]byte, responseHeaderSize)
	if _, err := io.ReadFull(conn, rsp); err != nil {
		if !s.answered && errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("TPM at %s %s took the connection but did not answer within %s: another process is probably using it (swtpm serves one client at a time); wait for it to finish or stop it, then run again", s.network, s.address, firstAnswerTimeout)
		}
		return nil, s.ioError("reading a response from", err)
	}
	s.answered = true
	size := binary.BigEndian.Uint32(rsp[2:6])
	if size < responseHeaderSize || size > maxResponseSize {
		return nil, fmt.Errorf("TPM at %s %s answered with an invalid response size %d; is it a TPM 2.0 server socket (not swtpm's --ctrl socket)?", s.network, s.address, size)
	}
	rsp = append(rsp, make([]byte, size-responseHeaderSize)...)
	if _, err := io.ReadFull(conn, rsp[responseHeaderSize:]); err != nil {
		return nil, s.ioError("reading a response from", err)
	}
	return rsp, nil
}

// Close implements io.Closer; connections are closed after each command.
func (s *streamTPM) Close() error { return nil }

// probe connects once, so that Open fails with a useful message when
// nothing listens, instead of the first command failing later.
func (s *streamTPM) probe() error {
	conn, err := s.dial()
	if err != nil {
		return err
	}
	return conn.Close()
}

func (s *streamTPM) dial() (*sockConn, error) {
	deadline := time.Now().Add(dialTimeout)
	for {
		conn, err := s.connect(deadline)
		if err == nil {
			return conn, nil
		}
		// swtpm serves one connection at a time from a short queue, and
		// Linux refuses a Unix socket connect to a full queue with EAGAIN at
		// once instead of waiting; so the waiting happens here.
		if errors.Is(err, syscall.EAGAIN) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		return nil, s.dialError(err)
	}
}

// connect tries each address in turn and returns the first error if none
// connects: for "localhost", IPv4 is where swtpm listens by default.
func (s *streamTPM) connect(deadline time.Time) (*sockConn, error) {
	var first error
	for _, sa := range s.addrs {
		conn, err := connect(sa, deadline)
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

func (s *streamTPM) dialError(err error) error {
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return &openError{fmt.Sprintf("TPM socket %s stayed busy for %s: swtpm serves one client at a time and another one holds it", s.address, dialTimeout), err}
	case errors.Is(err, syscall.ECONNREFUSED) && s.network == "unix":
		return &openError{fmt.Sprintf("nothing is listening on TPM socket %s (stale socket of a stopped swtpm?); start swtpm or fix tpm_path", s.address), err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &openError{fmt.Sprintf("connection refused by TPM at %s; start swtpm (swtpm socket --tpm2 --server type=tcp,port=...) or fix tpm_path", s.address), err}
	case errors.Is(err, fs.ErrNotExist):
		return &openError{fmt.Sprintf("TPM socket %s does not exist; start swtpm or fix tpm_path", s.address), err}
	case errors.Is(err, fs.ErrPermission):
		return &openError{fmt.Sprintf("permission denied connecting to TPM socket %s; run as the user that started swtpm or as root", s.address), err}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &openError{fmt.Sprintf("connecting to TPM at %s %s timed out after %s; check that swtpm is running and reachable", s.network, s.address, dialTimeout), err}
	default:
		return fmt.Errorf("connecting to TPM at %s %s: %w", s.network, s.address, err)
	}
}

func (s *streamTPM) ioError(doing string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s TPM at %s %s timed out after %s; swtpm may be hung or serving another client", doing, s.network, s.address, ioTimeout)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s TPM at %s %s: the connection closed early; is this swtpm's --server socket (not --ctrl)?", doing, s.network, s.address)
	}
	return fmt.Errorf("%s TPM at %s %s: %w", doing, s.network, s.address, err)
}

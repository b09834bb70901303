package tpm

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// This file is the socket layer of streamTPM, on Linux system calls alone:
// dialling with the net package adds 0.4 MiB (resolver, poller) to the
// target-side module, whose budget is 3 MiB (issue 3). Sockets are
// non-blocking and every wait is a ppoll(2) bounded by the connection's
// deadline, so nothing here can hang.

// sockConn is one connected stream socket with a deadline for all its I/O.
type sockConn struct {
	fd       int
	deadline time.Time
}

// connect opens a stream socket to sa, waiting until deadline at most for
// the connection to be set up. Failures are *os.SyscallError wrapping the
// errno (so errors.Is finds syscall.ECONNREFUSED, fs.ErrNotExist...), or
// os.ErrDeadlineExceeded.
func connect(sa syscall.Sockaddr, deadline time.Time) (*sockConn, error) {
	var family int
	switch sa.(type) {
	case *syscall.SockaddrUnix:
		family = syscall.AF_UNIX
	case *syscall.SockaddrInet4:
		family = syscall.AF_INET
	case *syscall.SockaddrInet6:
		family = syscall.AF_INET6
	default:
		return nil, fmt.Errorf("unsupported socket address %T", sa)
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := connectFD(fd, sa, deadline); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &sockConn{fd: fd, deadline: deadline}, nil
}

func connectFD(fd int, sa syscall.Sockaddr, deadline time.Time) error {
	switch err := syscall.Connect(fd, sa); err {
	case nil:
		return nil
	case syscall.EINPROGRESS, syscall.EINTR:
		// A TCP handshake goes on in the background (after EINTR too);
		// the socket turns writable when it ends, and SO_ERROR says how.
	default:
		return os.NewSyscallError("connect", err)
	}
	if err := waitFD(fd, pollOut, deadline); err != nil {
		return err
	}
	soErr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if soErr != 0 {
		return os.NewSyscallError("connect", syscall.Errno(soErr))
	}
	return nil
}

// Read implements io.Reader; it returns io.EOF when the peer has closed
// the connection.
func (c *sockConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(c.fd, p)
		switch err {
		case nil:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		case syscall.EINTR:
		case syscall.EAGAIN:
			if err := waitFD(c.fd, pollIn, c.deadline); err != nil {
				return 0, err
			}
		default:
			return 0, os.NewSyscallError("read", err)
		}
	}
}

// Write implements io.Writer, writing all of p unless an error stops it.
// MSG_NOSIGNAL turns a write to a closed connection into EPIPE instead of
// SIGPIPE.
func (c *sockConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.SendmsgN(c.fd, p[written:], nil, nil, syscall.MSG_NOSIGNAL)
		switch err {
		case nil:
			written += n
		case syscall.EINTR:
		case syscall.EAGAIN:
			if err := waitFD(c.fd, pollOut, c.deadline); err != nil {
				return written, err
			}
		default:
			return written, os.NewSyscallError("write", err)
		}
	}
	return written, nil
}

// Close implements io.Closer.
func (c *sockConn) Close() error {
	return os.NewSyscallError("close", syscall.Close(c.fd))
}

// Events for ppoll(2), from <poll.h>; package syscall does not have them.
const (
	pollIn  = 0x1
	pollOut = 0x4
)

// pollFD is struct pollfd of <poll.h>.
type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

// waitFD waits until fd is ready for events, or has an error or hang-up
// that the next call on it reports, or the deadline passes
// (os.ErrDeadlineExceeded).
func waitFD(fd int, events int16, deadline time.Time) error {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return os.ErrDeadlineExceeded
		}
		p := pollFD{fd: int32(fd), events: events}
		ts := syscall.NsecToTimespec(int64(left))
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL,
			uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		switch {
		case errno == syscall.EINTR:
		case errno != 0:
			return os.NewSyscallError("ppoll", errno)
		case n > 0:
			return nil
		}
	}
}

// unixSockaddr returns the address of a Unix socket path, or an error
// saying why it cannot be one.
func unixSockaddr(path string) (*syscall.SockaddrUnix, error) {
	// sun_path holds 108 bytes including the terminating NUL.
	const maxPath = 107
	if len(path) > maxPath {
		return nil, fmt.Errorf("TPM socket path %s is %d bytes, more than a Unix socket address holds (%d); use a shorter path or a symlink to it", path, len(path), maxPath)
	}
	return &syscall.SockaddrUnix{Name: path}, nil
}

// tcpSockaddrs returns the addresses to try for a TCP host and port: host
// is an IPv4 address, an IPv6 address or "localhost" (IPv4 loopback first,
// then IPv6); empty means localhost, as for net.Dial. Other host names are
// refused: resolving them would take the net package, and a TPM server is
// reached by address anyway.
func tcpSockaddrs(host, portText string) ([]syscall.Sockaddr, error) {
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("port %q is not a number from 1 to 65535", portText)
	}
	if host == "" || strings.EqualFold(host, "localhost") {
		return []syscall.Sockaddr{
			&syscall.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}},
			&syscall.SockaddrInet6{Port: int(port), Addr: netip.IPv6Loopback().As16()},
		}, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IP address; host names other than localhost are not resolved, so write the TPM server's address (tcp:192.0.2.1:2321 or tcp:[2001:db8::1]:2321)", host)
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return []syscall.Sockaddr{&syscall.SockaddrInet4{Port: int(port), Addr: ip.As4()}}, nil
	}
	var zone uint64
	if z := ip.Zone(); z != "" {
		if zone, err = strconv.ParseUint(z, 10, 32); err != nil {
			return nil, fmt.Errorf("IPv6 zone %q: write the interface's index (ip link shows it), not its name", z)
		}
	}
	return []syscall.Sockaddr{&syscall.SockaddrInet6{Port: int(port), ZoneId: uint32(zone), Addr: ip.As16()}}, nil
}

// splitHostPort splits "host:port" or "[host]:port", as net.SplitHostPort
// does.
func splitHostPort(addr string) (host, port string, err error) {
	if rest, ok := strings.CutPrefix(addr, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", errors.New("missing ']' after an IPv6 address")
		}
		host, rest = rest[:end], rest[end+1:]
		if port, ok = strings.CutPrefix(rest, ":"); !ok {
			return "", "", errors.New("missing port after ']'")
		}
		return host, port, nil
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", errors.New("missing port")
	}
	host, port = addr[:i], addr[i+1:]
	if strings.Contains(host, ":") {
		return "", "", errors.New("an IPv6 address needs brackets: tcp:[::1]:2321")
	}
	return host, port, nil
}

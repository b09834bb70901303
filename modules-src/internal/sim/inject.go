package sim

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// badGatewayPage is what a proxy in front of the API answers with 502: an
// HTML page, so that clients are tested against error bodies that are not
// JSON.
const badGatewayPage = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"

// injected ends each fault's error message, so that nobody reading a log
// takes it for a real failure.
const injected = " (fault injected by smallstep-sim)"

// inject answers a request with the fault d, applying the request through
// serve first when d says so.
func (s *Server) inject(w *statusRecorder, r *http.Request, d decision, serve func(http.ResponseWriter)) {
	if d.applied {
		buf := newBufferedResponse()
		serve(buf)
		if d.kind == FaultTruncate {
			truncate(w, buf)
			return
		}
		// The answer is lost: the client gets only the fault.
	} else {
		// Read the body as a handler would, so that the server notices
		// when a client gives up on a hang.
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBodyBytes))
	}
	switch d.kind {
	case FaultTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate limit exceeded; retry after 1 second"+injected)
	case FaultInternal:
		writeError(w, http.StatusInternalServerError, "internal server error"+injected)
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, badGatewayPage)
	case FaultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "service unavailable"+injected)
	case FaultGatewayTimeout:
		writeError(w, http.StatusGatewayTimeout, "gateway timeout"+injected)
	case FaultHang:
		t := time.NewTimer(d.hangFor)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.hangsEnd:
		}
		writeError(w, http.StatusGatewayTimeout, "gateway timeout after "+d.hangFor.String()+injected)
	case FaultReset:
		hangUp(w, true)
	}
}

// truncate sends buf's status and headers with a Content-Length for the
// whole body, then half the body, and closes the connection: the client
// sees an unexpected end of the body. An answer without a body cannot be
// cut short, so the connection is closed without one.
func truncate(w *statusRecorder, buf *bufferedResponse) {
	body := buf.body.Bytes()
	if len(body) == 0 {
		hangUp(w, false)
		return
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(buf.status)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	hangUp(w, false)
}

// hangUp closes the client's connection, with a TCP RST when reset is set
// (SO_LINGER 0) and else with an ordinary close. Where the connection
// cannot be taken over (HTTP/2), the response is aborted instead.
func hangUp(w *statusRecorder, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	if !w.wrote {
		w.status = 0 // logged as no answer
	}
}

// EndHangs ends every hanging request at once (with its 504) and every
// later one as soon as it starts, so that a server can shut down without
// waiting out --hang-for. Safe to call more than once.
func (s *Server) EndHangs() {
	s.endHangs.Do(func() { close(s.hangsEnd) })
}

// bufferedResponse keeps an answer in memory so that a fault decides what
// of it the client gets.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

package smallstep

import (
	"errors"
	"fmt"
	"net/http"
)

// APIError is a failed request: what was asked, the HTTP status (0 when no
// answer came), the server's message and the request ID to quote to support.
type APIError struct {
	Method    string
	Path      string
	Status    int
	Message   string
	RequestID string
	// Tries is how many times the request was sent, when more than once.
	Tries int
	// transient marks failures below HTTP (reset, timeout, cut body).
	transient bool
	// wrongBase marks a 404 that Absent traced to a wrong api_url.
	wrongBase bool
	// unsent marks failures before the request left (see NotSent).
	unsent bool
}

func (e *APIError) Error() string {
	tries := ""
	if e.Tries > 1 {
		tries = fmt.Sprintf(" after %d tries", e.Tries)
	}
	if e.Status == 0 {
		return fmt.Sprintf("%s %s failed%s: %s (request ID %s)", e.Method, e.Path, tries, e.Message, e.RequestID)
	}
	return fmt.Sprintf("%s %s failed%s: HTTP %d %s: %s (request ID %s)%s",
		e.Method, e.Path, tries, e.Status, http.StatusText(e.Status), e.Message, e.RequestID, hint(e.Status))
}

// ResultFields puts the failure into the module result as structured data.
func (e *APIError) ResultFields() map[string]any {
	failure := map[string]any{
		"method":     e.Method,
		"path":       e.Path,
		"status":     e.Status,
		"message":    e.Message,
		"request_id": e.RequestID,
	}
	if e.Tries > 1 {
		failure["tries"] = e.Tries
	}
	return map[string]any{"failure": failure}
}

func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "; check api_token (or SMALLSTEP_API_TOKEN)"
	case http.StatusForbidden:
		return "; the token lacks the permission for this"
	}
	return ""
}

// IsNotFound reports whether err is the API's 404, unless Absent has
// found that it comes from a wrong api_url.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && !ae.wrongBase
}

// NotSent reports whether err is a failure before the request left this
// machine (no connection, no TLS session), so that the server did nothing.
func NotSent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.unsent
}

// StatusOf returns the HTTP status of an API error, 0 for other errors.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

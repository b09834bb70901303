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

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// StatusOf returns the HTTP status of an API error, 0 for other errors.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

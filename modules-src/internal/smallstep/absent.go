package smallstep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// probePath is an endpoint every team has, whatever it holds: if it
// answers, api_url is the API's base.
const probePath = "/authorities"

// Absent reports whether err is a 404 that means the object is missing.
//
// A wrong api_url (say, the gateway without /api) also answers 404 to
// everything, which would make a removal or a read "succeed" against
// nothing. So the first 404 a client is about to take as absence is
// checked once with GET /authorities: when that answers 404 too, the
// 404 is a wrong base URL, and Absent returns an error saying so. Any
// other err is returned as it is.
func (c *Client) Absent(ctx context.Context, err error) (bool, error) {
	if !IsNotFound(err) {
		return false, err
	}
	if c.baseChecked {
		return true, nil
	}
	_, perr := c.Do(ctx, http.MethodGet, probePath, nil, nil)
	switch {
	case perr == nil:
		c.baseChecked = true
		return true, nil
	case IsNotFound(perr):
		var ae *APIError
		errors.As(err, &ae)
		wrong := *ae
		wrong.wrongBase = true
		wrong.Message += fmt.Sprintf("; GET %s answers 404 too, so api_url %s is not the Smallstep API's base URL (it usually ends in /api)",
			probePath, c.base.Redacted())
		return false, &wrong
	default:
		return false, perr
	}
}

// Package enrollment generates enrollment tokens for devices: the logic
// behind the enrollment_token module. A token is a secret that the server
// shows once, so the module returns it in one documented field and nowhere
// else, and never sends the request twice.
package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/deviceid"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// Spec is the module's argument spec, connection options included.
func Spec() *ansible.Spec {
	return (&ansible.Spec{Options: map[string]*ansible.Option{
		"collection":  {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
		"instance_id": {Type: ansible.TypeStr, Required: true, Aliases: []string{"id"}},
		"title":       {Type: ansible.TypeStr},
	}}).Merge(smallstep.ConnectionOptions())
}

// answer is the 201 body: the OpenAPI enrollmentToken schema has the JWT in
// "secret"; some servers (the simulator among them) also send "token".
type answer struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Secret string `json:"secret"`
	Token  string `json:"token"`
}

// Run is the module: every run asks for a new token, so it always reports
// a change; check mode sends nothing.
func Run(m *ansible.Module) error {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "collection"); err != nil {
		return err
	}
	if err := smallstep.CheckNames(p, "instance_id", "title"); err != nil {
		return err
	}
	if err := deviceid.Check("", p.Str("instance_id")); err != nil {
		return fmt.Errorf("instance_id: %v", err)
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	collection, id := p.Str("collection"), p.Str("instance_id")
	request := map[string]any{}
	if p.Has("title") {
		request["title"] = p.Str("title")
	}
	// The diff says what is asked for; the token itself never goes there.
	asked := map[string]any{"collection": collection, "instance_id": id}
	for k, v := range request {
		asked[k] = v
	}
	m.SetDiff(map[string]any{}, asked)
	m.SetChanged(true)
	if m.CheckMode {
		m.Set("msg", fmt.Sprintf("check mode: a new enrollment token would be generated for device %q of collection %q; no request was sent", id, collection))
		return nil
	}

	path := smallstep.Path("device-collections", collection, id, "enrollment-token")
	ctx := context.Background()
	resp, err := c.Do(ctx, http.MethodPost, path, nil, request)
	switch status := smallstep.StatusOf(err); {
	case status == http.StatusNotFound:
		m.SetChanged(false)
		if absent, aerr := c.Absent(ctx, err); !absent {
			return aerr // a wrong api_url, said so
		}
		return fmt.Errorf("%w; is device %q registered in collection %q? Register it first with stepfleet.smallstep.device", err, id, collection)
	case status >= 400 && status < 500, status == http.StatusServiceUnavailable,
		status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		// Refused (503, 501 and 505 too: the request was not taken): no token.
		m.SetChanged(false)
		return err
	case smallstep.NotSent(err):
		// No connection or no TLS session: the server never saw it.
		m.SetChanged(false)
		return err
	case err != nil:
		// The server or a gateway failed (500, 502, 504), or no answer came,
		// or one was cut short: perhaps after making a token nobody will see.
		return fmt.Errorf("%w; a token may have been generated all the same: if so it is unused, and a new run makes another", err)
	}
	var a answer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		// encoding/json's message quotes no part of the body, but say no
		// more than that it was not the expected JSON: it may hold the token.
		var syntax *json.SyntaxError
		what := "not JSON"
		if !errors.As(err, &syntax) {
			what = "not the enrollment token object expected"
		}
		return fmt.Errorf("POST %s: the answer (HTTP %d, request ID %s) is %s; a token may have been generated, check the dashboard", path, resp.Status, resp.RequestID, what)
	}
	token := a.Secret
	if token == "" {
		token = a.Token
	}
	if token == "" {
		return fmt.Errorf("POST %s: the answer (HTTP %d, request ID %s) holds no token (neither secret nor token)", path, resp.Status, resp.RequestID)
	}
	m.Set("token", token)
	m.Set("enrollment_token", map[string]any{"id": a.ID, "title": a.Title, "collection": collection, "instance_id": id})
	return nil
}

// Package devicedata holds the rules for a device's metadata that the
// device and devices modules share: which keys the server owns, how a new
// body keeps them, and how large the data may be.
package devicedata

import "strings"

// ServerPrefix starts the data keys the server adds on its own (such as
// smallstep:host:id); they are kept on update and never compared.
const ServerPrefix = "smallstep:"

// MaxSize bounds a device's metadata as JSON: it is read by the agent and
// shown in the dashboard, and a runaway variable should fail here, not at
// the API.
const MaxSize = 1 << 20

// User is the data without the server's own keys.
func User(data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		if !strings.HasPrefix(k, ServerPrefix) {
			out[k] = v
		}
	}
	return out
}

// Body is what to PUT: the server's keys from current, the user's keys
// from desired.
func Body(current, desired map[string]any) map[string]any {
	body := map[string]any{}
	for k, v := range current {
		if strings.HasPrefix(k, ServerPrefix) {
			body[k] = v
		}
	}
	for k, v := range User(desired) {
		body[k] = v
	}
	return body
}

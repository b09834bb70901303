// Package authority reads the team's certificate authorities and finds the
// agents authority whose team name and root fingerprint the agent needs.
package authority

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// Spec is the module's argument spec: the connection options only.
func Spec() *ansible.Spec {
	return (&ansible.Spec{Options: map[string]*ansible.Option{}}).Merge(smallstep.ConnectionOptions())
}

// Run is the module: list authorities, report the agents one.
func Run(m *ansible.Module) error {
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	var all []map[string]any
	if err := smallstep.List(context.Background(), c, "/authorities", func(page json.RawMessage) error {
		var items []map[string]any
		if err := json.Unmarshal(page, &items); err != nil {
			return err
		}
		all = append(all, items...)
		return nil
	}); err != nil {
		return err
	}
	views := make([]any, 0, len(all))
	for _, a := range all {
		views = append(views, shape.ToSnake(a))
	}
	m.Set("authorities", views)
	agents := Agents(all)
	if agents == nil {
		m.Warn("no agents authority (domain agents.<team>.ca.smallstep.com) among the team's %d authorities; the agent cannot be configured until the team has one", len(all))
		agents = map[string]any{}
	}
	m.Set("agents", agents)
	return nil
}

// Agents finds the authority agents.<team>.ca.smallstep.com and returns the
// team, fingerprint and domain the agent is configured with.
func Agents(authorities []map[string]any) map[string]any {
	for _, a := range authorities {
		domain, _ := a["domain"].(string)
		rest, ok := strings.CutPrefix(domain, "agents.")
		if !ok {
			continue
		}
		team, _, _ := strings.Cut(rest, ".ca.")
		if team == "" || !strings.Contains(rest, ".ca.") {
			continue
		}
		return map[string]any{
			"team":         team,
			"fingerprint":  a["fingerprint"],
			"domain":       domain,
			"id":           a["id"],
			"name":         a["name"],
			"root":         a["root"],
			"authority_id": a["id"],
		}
	}
	return nil
}

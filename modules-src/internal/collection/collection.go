// Package collection manages a Smallstep device collection: the
// compare-and-apply logic behind the device_collection module.
package collection

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// typeConfigs maps each device type to its option and the API fields of its
// deviceTypeConfiguration, as in the 2023-03-01 schema.
var typeConfigs = map[string]struct {
	option string
	fields []string
}{
	"aws-vm":   {"aws_vm", []string{"accounts", "disableCustomSANs"}},
	"azure-vm": {"azure_vm", []string{"tenantID", "resourceGroups", "audience", "disableCustomSANs"}},
	"gcp-vm":   {"gcp_vm", []string{"projectIDs", "serviceAccounts", "disableCustomSANs"}},
	"tpm":      {"tpm", []string{"attestorRoots", "attestorIntermediates", "forceCN", "requireEAB"}},
}

// setFields are lists whose order means nothing to the server.
var setFields = []string{"accounts", "resourceGroups", "projectIDs", "serviceAccounts"}

// serverDefaults are what the server fills in when a field is left out.
var serverDefaults = map[string]map[string]any{
	"azure-vm": {"audience": "https://management.azure.com/"},
}

func str() *ansible.Option  { return &ansible.Option{Type: ansible.TypeStr} }
func flag() *ansible.Option { return &ansible.Option{Type: ansible.TypeBool} }
func strs() *ansible.Option {
	return &ansible.Option{Type: ansible.TypeList, Elements: ansible.TypeStr}
}
func strsRequired() *ansible.Option {
	return &ansible.Option{Type: ansible.TypeList, Elements: ansible.TypeStr, Required: true}
}

// Spec is the module's argument spec, connection options included.
func Spec() *ansible.Spec {
	dict := func(opts map[string]*ansible.Option, oneOf ...[]string) *ansible.Option {
		return &ansible.Option{Type: ansible.TypeDict, Options: &ansible.Spec{Options: opts, RequiredOneOf: oneOf}}
	}
	choices := func(values ...string) []any {
		out := make([]any, len(values))
		for i, v := range values {
			out[i] = v
		}
		return out
	}
	s := &ansible.Spec{
		Options: map[string]*ansible.Option{
			"slug":         {Type: ansible.TypeStr, Required: true, Aliases: []string{"name"}},
			"display_name": str(),
			"device_type":  {Type: ansible.TypeStr, Choices: choices("aws-vm", "azure-vm", "gcp-vm", "tpm")},
			"aws_vm":       dict(map[string]*ansible.Option{"accounts": strsRequired(), "disable_custom_sans": flag()}),
			"azure_vm": dict(map[string]*ansible.Option{
				"tenant_id": {Type: ansible.TypeStr, Required: true}, "resource_groups": strsRequired(),
				"audience": str(), "disable_custom_sans": flag(),
			}),
			"gcp_vm": dict(map[string]*ansible.Option{
				"project_ids": strs(), "service_accounts": strs(), "disable_custom_sans": flag(),
			}, []string{"project_ids", "service_accounts"}),
			"tpm": dict(map[string]*ansible.Option{
				"attestor_roots": str(), "attestor_intermediates": str(), "force_cn": flag(), "require_eab": flag(),
			}),
			"admin_emails": strs(),
			"state":        {Type: ansible.TypeStr, Default: "present", Choices: choices("present", "absent")},
			"purge":        {Type: ansible.TypeBool, Default: false},
		},
		MutuallyExclusive: [][]string{{"aws_vm", "azure_vm", "gcp_vm", "tpm"}},
		RequiredIf: []ansible.RequiredIf{
			{Key: "state", Value: "present", Requires: []string{"device_type"}},
			{Key: "device_type", Value: "aws-vm", Requires: []string{"aws_vm"}},
			{Key: "device_type", Value: "azure-vm", Requires: []string{"azure_vm"}},
			{Key: "device_type", Value: "gcp-vm", Requires: []string{"gcp_vm"}},
		},
	}
	return s.Merge(smallstep.ConnectionOptions())
}

// Run is the module: bring the collection to the desired state.
func Run(m *ansible.Module) error {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "slug"); err != nil {
		return err
	}
	if err := checkTypeOption(p); err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	slug := p.Str("slug")
	path := smallstep.Path("device-collections", slug)

	var current map[string]any
	_, getErr := c.JSON(ctx, http.MethodGet, path, nil, nil, &current)
	if getErr != nil && !smallstep.IsNotFound(getErr) {
		return getErr
	}
	// Nothing there is success for a removal and a change in check mode,
	// unless the 404 came from a wrong api_url. (A real creation needs no
	// such check: its PUT would fail.)
	if p.Str("state") == "absent" || m.CheckMode {
		if _, err := c.Absent(ctx, getErr); err != nil {
			return err
		}
	}
	if p.Str("state") == "absent" {
		return remove(ctx, m, c, slug, current)
	}
	if p.Bool("purge") {
		m.Warn("purge only applies with state: absent; it is ignored here")
	}

	desired := desiredBody(p, current)
	if current != nil && current["deviceType"] != desired["deviceType"] {
		return fmt.Errorf("device collection %q has device_type %v; the API cannot change it to %v: delete the collection (state: absent, purge: true) and create it again",
			slug, current["deviceType"], desired["deviceType"])
	}
	before, after := comparable(current), comparable(desired)
	m.SetDiff(view(before), view(after))
	if current != nil && shape.Equal(before, after) {
		m.Set("device_collection", view(before))
		return nil
	}
	m.SetChanged(true)
	if m.CheckMode {
		m.Set("device_collection", view(after))
		return nil
	}
	var saved map[string]any
	if _, err := c.JSON(ctx, http.MethodPut, path, nil, desired, &saved); err != nil {
		if refused(err) {
			m.SetChanged(false)
		}
		return err
	}
	m.Set("device_collection", view(comparable(saved)))
	return nil
}

// checkTypeOption refuses a configuration for another type than the one set.
func checkTypeOption(p ansible.Params) error {
	dt := p.Str("device_type")
	if dt == "" {
		return nil
	}
	for t, tc := range typeConfigs {
		if t != dt && p.Has(tc.option) {
			return fmt.Errorf("%s is set but device_type is %s; use the option %s for device_type %s", tc.option, dt, typeConfigs[dt].option, dt)
		}
	}
	return nil
}

func desiredBody(p ansible.Params, current map[string]any) map[string]any {
	dt := p.Str("device_type")
	tc := typeConfigs[dt]
	config := shape.FromParams(p.Dict(tc.option), tc.fields, nil)
	if config == nil {
		// Without its option, an existing collection keeps its
		// configuration (attestor roots, accounts...), as it keeps its name.
		config = map[string]any{}
		if current != nil {
			if c, ok := current["deviceTypeConfiguration"].(map[string]any); ok {
				config = c
			}
		}
	}
	name := p.Str("display_name")
	if name == "" {
		// Keep the name a collection already has; a new one is named by its slug.
		name = p.Str("slug")
		if current != nil {
			if n, ok := current["displayName"].(string); ok {
				name = n
			}
		}
	}
	body := map[string]any{
		"slug":                    p.Str("slug"),
		"displayName":             name,
		"deviceType":              dt,
		"deviceTypeConfiguration": config,
	}
	if emails := p.Strings("admin_emails"); emails != nil {
		body["adminEmails"] = emails
	}
	return body
}

// comparable is the collection as the server means it: server defaults
// filled in, empty values dropped, sets sorted, never-returned fields gone.
func comparable(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	n, _ := shape.Normalize(shape.Drop(obj, "adminEmails"), setFields...).(map[string]any)
	// Defaults after normalising: the server fills in an empty value too.
	dt, _ := n["deviceType"].(string)
	if defaults, ok := serverDefaults[dt]; ok {
		n = shape.WithDefaults(n, map[string]any{"deviceTypeConfiguration": defaults})
	}
	return n
}

func view(obj map[string]any) any {
	if obj == nil {
		return map[string]any{}
	}
	return shape.ToSnake(obj)
}

func remove(ctx context.Context, m *ansible.Module, c *smallstep.Client, slug string, current map[string]any) error {
	m.SetDiff(view(comparable(current)), map[string]any{})
	if current == nil {
		return nil
	}
	purge := m.Params.Bool("purge")
	if !purge {
		// Check mode must fail as the real run would: look for devices first.
		var items []json.RawMessage
		q := url.Values{"pagination[first]": {"1"}}
		if _, err := c.JSON(ctx, http.MethodGet, smallstep.Path("collections", slug, "items"), q, nil, &items); err != nil && !smallstep.IsNotFound(err) {
			return err
		}
		if len(items) > 0 {
			return notEmpty(slug)
		}
	}
	m.SetChanged(true)
	if m.CheckMode {
		return nil
	}
	var q url.Values
	if purge {
		q = url.Values{"purge": {"true"}}
	}
	_, err := c.Do(ctx, http.MethodDelete, smallstep.Path("device-collections", slug), q, nil)
	if refused(err) {
		m.SetChanged(false)
	}
	if smallstep.StatusOf(err) == http.StatusUnprocessableEntity {
		// Wrapped, so the result keeps the structured failure too.
		return fmt.Errorf("%s (%w)", notEmpty(slug), err)
	}
	return err
}

// refused reports whether the server answered a write with an error status,
// so nothing changed; after a transport error the write may have happened.
func refused(err error) bool { return smallstep.StatusOf(err) >= 400 }

func notEmpty(slug string) error {
	return fmt.Errorf("device collection %q still holds devices or workloads; set purge: true to delete them with it, or remove them first", slug)
}

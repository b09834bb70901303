// Package workload manages a workload of a device collection: the
// compare-and-apply logic behind the workload module.
package workload

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// Types are the workload types of the 2023-03-01 API.
var Types = []string{"etcd", "generic", "git", "grafana", "haproxy", "httpd", "kafka", "mysql", "nginx", "nodejs", "postgres", "redis", "tomcat", "zookeeper"}

// API field lists of the workload and its nested objects.
var (
	fields = []string{"slug", "displayName", "workloadType", "staticSANs", "deviceMetadataKeySANs",
		"certificateInfo", "keyInfo", "reloadInfo", "hooks", "adminEmails"}
	nested = map[string][]string{
		"certificateInfo": {"type", "duration", "crtFile", "keyFile", "rootFile", "uid", "gid", "mode"},
		"keyInfo":         {"type", "format", "pubFile"},
		"reloadInfo":      {"method", "pidFile", "signal", "unitName"},
		"hooks":           {"sign", "renew"},
		"sign":            {"shell", "before", "after", "onError"},
		"renew":           {"shell", "before", "after", "onError"},
	}
	// deviceMetadataKeySANs names keys, so its order carries no meaning;
	// staticSANs' first entry is the Common Name, so its order does.
	setFields = []string{"deviceMetadataKeySANs"}
	// serverDefaults are what the server fills in for left-out objects.
	serverDefaults = map[string]any{
		"certificateInfo": map[string]any{"type": "X509"},
		"keyInfo":         map[string]any{"type": "DEFAULT", "format": "DEFAULT"},
		"reloadInfo":      map[string]any{"method": "AUTOMATIC"},
	}
)

func choices(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func str() *ansible.Option { return &ansible.Option{Type: ansible.TypeStr} }
func strs() *ansible.Option {
	return &ansible.Option{Type: ansible.TypeList, Elements: ansible.TypeStr}
}
func dict(opts map[string]*ansible.Option, ifs ...ansible.RequiredIf) *ansible.Option {
	return &ansible.Option{Type: ansible.TypeDict, Options: &ansible.Spec{Options: opts, RequiredIf: ifs}}
}

func hookSpec() *ansible.Option {
	return dict(map[string]*ansible.Option{"shell": str(), "before": strs(), "after": strs(), "on_error": strs()})
}

// Spec is the module's argument spec, connection options included.
func Spec() *ansible.Spec {
	s := &ansible.Spec{Options: map[string]*ansible.Option{
		"collection":               {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
		"slug":                     {Type: ansible.TypeStr, Required: true, Aliases: []string{"name"}},
		"display_name":             str(),
		"workload_type":            {Type: ansible.TypeStr, Choices: choices(Types...)},
		"static_sans":              strs(),
		"device_metadata_key_sans": strs(),
		"certificate_info": dict(map[string]*ansible.Option{
			"type":      {Type: ansible.TypeStr, Default: "X509", Choices: choices("X509", "SSH_USER", "SSH_HOST")},
			"duration":  str(),
			"crt_file":  str(),
			"key_file":  str(),
			"root_file": str(),
			"uid":       {Type: ansible.TypeInt},
			"gid":       {Type: ansible.TypeInt},
			"mode":      {Type: ansible.TypeRaw},
		}),
		"key_info": dict(map[string]*ansible.Option{
			"type":     {Type: ansible.TypeStr, Choices: choices("DEFAULT", "ECDSA_P256", "ECDSA_P384", "ECDSA_P521", "RSA_2048", "RSA_3072", "RSA_4096", "ED25519")},
			"format":   {Type: ansible.TypeStr, Choices: choices("DEFAULT", "DER", "OPENSSH", "PKCS8")},
			"pub_file": str(),
		}),
		"reload_info": dict(map[string]*ansible.Option{
			"method":    {Type: ansible.TypeStr, Required: true, Choices: choices("AUTOMATIC", "CUSTOM", "SIGNAL", "DBUS")},
			"pid_file":  str(),
			"signal":    {Type: ansible.TypeInt},
			"unit_name": str(),
		},
			ansible.RequiredIf{Key: "method", Value: "SIGNAL", Requires: []string{"pid_file", "signal"}},
			ansible.RequiredIf{Key: "method", Value: "DBUS", Requires: []string{"unit_name"}},
		),
		"hooks":        dict(map[string]*ansible.Option{"sign": hookSpec(), "renew": hookSpec()}),
		"admin_emails": strs(),
		"state":        {Type: ansible.TypeStr, Default: "present", Choices: choices("present", "absent")},
	}, RequiredIf: []ansible.RequiredIf{{Key: "state", Value: "present", Requires: []string{"workload_type"}}}}
	return s.Merge(smallstep.ConnectionOptions())
}

// Run is the module: bring the workload to the desired state.
func Run(m *ansible.Module) error {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "collection"); err != nil {
		return err
	}
	if err := smallstep.CheckNames(p, "slug"); err != nil {
		return err
	}
	desired, err := desiredBody(p)
	if err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	collection, slug := p.Str("collection"), p.Str("slug")
	path := smallstep.Path("device-collections", collection, "workloads", slug)

	var current map[string]any
	_, err = c.JSON(ctx, http.MethodGet, path, nil, nil, &current)
	switch {
	case smallstep.IsNotFound(err):
		current = nil
		// Tell a missing collection from a missing workload: only the first
		// is an error. Absent tells both from a wrong api_url.
		_, cerr := c.Do(ctx, http.MethodGet, smallstep.Path("device-collections", collection), nil, nil)
		missing, cerr := c.Absent(ctx, cerr)
		if missing {
			if p.Str("state") == "absent" {
				m.SetDiff(map[string]any{}, map[string]any{})
				return nil
			}
			if !m.CheckMode {
				return fmt.Errorf("device collection %q does not exist; create it first with stepfleet.smallstep.device_collection", collection)
			}
			// In check mode an earlier task of the play may be about to
			// create the collection: report the change it would bring.
			m.Warn(smallstep.PendingCollection, collection)
		} else if cerr != nil {
			return cerr
		}
	case err != nil:
		return err
	}

	if p.Str("state") == "absent" {
		m.SetDiff(view(comparable(current)), map[string]any{})
		if current == nil {
			return nil
		}
		m.SetChanged(true)
		if m.CheckMode {
			return nil
		}
		_, err := c.Do(ctx, http.MethodDelete, path, nil, nil)
		if refused(err) {
			m.SetChanged(false)
		}
		return err
	}

	if name, _ := desired["displayName"].(string); name == "" {
		// Keep the name a workload already has; a new one is named by its slug.
		desired["displayName"] = slug
		if n, ok := current["displayName"].(string); ok {
			desired["displayName"] = n
		}
	}
	before, after := comparable(current), comparable(desired)
	m.SetDiff(view(before), view(after))
	if current != nil && shape.Equal(before, after) {
		m.Set("workload", view(before))
		return nil
	}
	m.SetChanged(true)
	if m.CheckMode {
		m.Set("workload", view(after))
		return nil
	}
	var saved map[string]any
	if _, err := c.JSON(ctx, http.MethodPut, path, nil, desired, &saved); err != nil {
		if refused(err) {
			m.SetChanged(false)
		}
		return err
	}
	m.Set("workload", view(comparable(saved)))
	return nil
}

// refused reports whether the server answered a write with an error status,
// so nothing changed; after a transport error the write may have happened.
func refused(err error) bool { return smallstep.StatusOf(err) >= 400 }

// desiredBody builds the PUT body from the options, checking the values
// the spec cannot (mode, duration) before any request.
func desiredBody(p ansible.Params) (map[string]any, error) {
	params := map[string]any(p)
	if ci := p.Dict("certificate_info"); ci != nil {
		ci = copyParams(ci)
		if ci.Has("mode") {
			mode, err := parseMode(ci["mode"])
			if err != nil {
				return nil, err
			}
			ci["mode"] = mode
		}
		if d := ci.Str("duration"); d != "" {
			if dur, err := time.ParseDuration(d); err != nil || dur <= 0 {
				return nil, fmt.Errorf("certificate_info.duration %q is not a positive duration such as 24h or 720h0m0s", d)
			}
		}
		for _, id := range []string{"uid", "gid"} {
			if ci.Has(id) && ci.Int(id) < 0 {
				return nil, fmt.Errorf("certificate_info.%s must be 0 or more, got %d", id, ci.Int(id))
			}
		}
		params = copyParams(p)
		params["certificate_info"] = map[string]any(ci)
	}
	if ri := p.Dict("reload_info"); ri != nil && ri.Has("signal") {
		// Linux signal numbers, SIGHUP (1) to SIGRTMAX (64).
		if sig := ri.Int("signal"); sig < 1 || sig > 64 {
			return nil, fmt.Errorf("reload_info.signal must be a signal number from 1 to 64 (1 is SIGHUP), got %d", sig)
		}
	}
	for _, opt := range []string{"static_sans", "device_metadata_key_sans"} {
		seen := map[string]bool{}
		for _, san := range p.Strings(opt) {
			if strings.TrimSpace(san) == "" {
				return nil, fmt.Errorf("%s holds an empty entry", opt)
			}
			if seen[san] {
				return nil, fmt.Errorf("%s lists %q twice", opt, san)
			}
			seen[san] = true
		}
	}
	return shape.FromParams(params, fields, nested), nil
}

// parseMode takes a file mode as Ansible's file modules do: a string is
// octal ('0400', '400'), a number is the mode's value (256 is 0400).
func parseMode(v any) (int64, error) {
	bad := fmt.Errorf("certificate_info.mode %v is not a file mode: give an octal string such as '0400' or '0640', or its decimal value such as 256", v)
	var mode int64
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 8, 64)
		if err != nil {
			return 0, bad
		}
		mode = n
	case float64:
		if x != float64(int64(x)) {
			return 0, bad
		}
		mode = int64(x)
	case int64:
		mode = x
	default:
		return 0, bad
	}
	if mode < 0 || mode > 0o7777 {
		return 0, bad
	}
	return mode, nil
}

// comparable is the workload as the server means it.
func comparable(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	obj = shape.WithDefaults(shape.Drop(obj, "adminEmails"), serverDefaults)
	if ci, ok := obj["certificateInfo"].(map[string]any); ok {
		if d, ok := ci["duration"].(string); ok {
			// 24h and 24h0m0s are the same duration.
			if dur, err := time.ParseDuration(d); err == nil {
				ci = shape.Drop(ci)
				ci["duration"] = dur.String()
				obj["certificateInfo"] = ci
			}
		}
	}
	n, _ := shape.Normalize(obj, setFields...).(map[string]any)
	return n
}

func view(obj map[string]any) any {
	if obj == nil {
		return map[string]any{}
	}
	return shape.ToSnake(obj)
}

func copyParams(p ansible.Params) ansible.Params {
	out := make(ansible.Params, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

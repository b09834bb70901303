package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// kind is the JSON type a field must have.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInteger
	kindStringArray
	kindObject // an object with the listed properties and no others
	kindAnyObject
)

// rule is a small subset of JSON Schema: enough for the 2023-03-01 bodies
// and much easier to read than a general validator. Objects never allow
// unknown properties, so that a client's misspelt field fails loudly here
// instead of being silently ignored as a lenient server might.
type rule struct {
	kind     kind
	required bool
	enum     []string
	props    []prop // kindObject only, in the order they are checked
}

type prop struct {
	name string
	rule rule
}

var (
	optString  = rule{kind: kindString}
	reqString  = rule{kind: kindString, required: true}
	optBool    = rule{kind: kindBool}
	optInt     = rule{kind: kindInteger}
	optStrings = rule{kind: kindStringArray}
	reqStrings = rule{kind: kindStringArray, required: true}
)

func enumOf(required bool, values ...string) rule {
	return rule{kind: kindString, required: required, enum: values}
}

func object(props ...prop) rule { return rule{kind: kindObject, props: props} }

// Device types of the 2023-03-01 deviceCollection schema.
var deviceTypes = []string{"aws-vm", "azure-vm", "gcp-vm", "tpm"}

var deviceCollectionRule = object(
	prop{"slug", reqString},
	prop{"displayName", reqString},
	prop{"deviceType", enumOf(true, deviceTypes...)},
	// Checked against deviceTypeConfigRules once deviceType is known.
	prop{"deviceTypeConfiguration", rule{kind: kindAnyObject, required: true}},
	prop{"adminEmails", optStrings},
)

var deviceTypeConfigRules = map[string]rule{
	"aws-vm": object(
		prop{"accounts", reqStrings},
		prop{"disableCustomSANs", optBool},
	),
	"azure-vm": object(
		prop{"tenantID", reqString},
		prop{"resourceGroups", reqStrings},
		prop{"audience", optString},
		prop{"disableCustomSANs", optBool},
	),
	"gcp-vm": object(
		prop{"projectIDs", optStrings},
		prop{"serviceAccounts", optStrings},
		prop{"disableCustomSANs", optBool},
	),
	"tpm": object(
		prop{"attestorRoots", optString},
		prop{"attestorIntermediates", optString},
		prop{"forceCN", optBool},
		prop{"requireEAB", optBool},
	),
}

var workloadTypes = []string{"etcd", "generic", "git", "grafana", "haproxy", "httpd", "kafka",
	"mysql", "nginx", "nodejs", "postgres", "redis", "tomcat", "zookeeper"}

var hookRule = object(
	prop{"shell", optString},
	prop{"before", optStrings},
	prop{"after", optStrings},
	prop{"onError", optStrings},
)

var workloadRule = object(
	prop{"slug", reqString},
	prop{"displayName", reqString},
	prop{"workloadType", enumOf(true, workloadTypes...)},
	prop{"staticSANs", optStrings},
	prop{"deviceMetadataKeySANs", optStrings},
	prop{"certificateInfo", object(
		prop{"type", enumOf(true, "X509", "SSH_USER", "SSH_HOST")},
		prop{"duration", optString},
		prop{"crtFile", optString},
		prop{"keyFile", optString},
		prop{"rootFile", optString},
		prop{"uid", optInt},
		prop{"gid", optInt},
		prop{"mode", optInt},
	)},
	prop{"keyInfo", object(
		prop{"type", enumOf(false, "DEFAULT", "ECDSA_P256", "ECDSA_P384", "ECDSA_P521",
			"RSA_2048", "RSA_3072", "RSA_4096", "ED25519")},
		prop{"format", enumOf(false, "DEFAULT", "DER", "OPENSSH", "PKCS8")},
		prop{"pubFile", optString},
	)},
	prop{"reloadInfo", object(
		prop{"method", enumOf(true, "AUTOMATIC", "CUSTOM", "SIGNAL", "DBUS")},
		prop{"pidFile", optString},
		prop{"signal", optInt},
		prop{"unitName", optString},
	)},
	prop{"hooks", object(
		prop{"sign", hookRule},
		prop{"renew", hookRule},
	)},
	prop{"adminEmails", optStrings},
)

var instanceRule = object(
	prop{"data", rule{kind: kindAnyObject, required: true}},
)

// check validates v against r and reports the first problem, naming the
// field by its path (deviceTypeConfiguration.accounts[1]). A JSON null
// counts as an absent field, as it does for a Go server decoding into
// structs, and is removed from the object so that it is not stored.
func check(path string, v any, r rule) error {
	switch r.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return typeError(path, "a string", v)
		}
		if len(r.enum) > 0 && !contains(r.enum, s) {
			return fmt.Errorf("%s: must be one of %s, not %q", path, strings.Join(r.enum, ", "), s)
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return typeError(path, "a boolean", v)
		}
	case kindInteger:
		n, ok := v.(json.Number)
		if !ok {
			return typeError(path, "an integer", v)
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return fmt.Errorf("%s: must be an integer, not %s", path, n)
		}
	case kindStringArray:
		a, ok := v.([]any)
		if !ok {
			return typeError(path, "an array of strings", v)
		}
		for i, e := range a {
			if _, ok := e.(string); !ok {
				return typeError(fmt.Sprintf("%s[%d]", path, i), "a string", e)
			}
		}
	case kindAnyObject:
		if _, ok := v.(map[string]any); !ok {
			return typeError(path, "an object", v)
		}
	case kindObject:
		return checkObject(path, v, r)
	}
	return nil
}

func checkObject(path string, v any, r rule) error {
	m, ok := v.(map[string]any)
	if !ok {
		return typeError(orBody(path), "an object", v)
	}
	for k, e := range m {
		if e == nil {
			delete(m, k)
		}
	}
	known := make(map[string]bool, len(r.props))
	for _, p := range r.props {
		known[p.name] = true
		e, ok := m[p.name]
		if !ok {
			if p.rule.required {
				return fmt.Errorf("%s: required field is missing", join(path, p.name))
			}
			continue
		}
		if err := check(join(path, p.name), e, p.rule); err != nil {
			return err
		}
	}
	unknown := make([]string, 0)
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s: unknown field", join(path, unknown[0]))
	}
	return nil
}

func typeError(path, want string, got any) error {
	return fmt.Errorf("%s: must be %s, not %s", path, want, jsonType(got))
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orBody(path string) string {
	if path == "" {
		return "request body"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

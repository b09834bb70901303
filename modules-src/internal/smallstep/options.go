// Package smallstep is the client of the Smallstep API shared by every API
// module: its connection options, requests and error messages.
package smallstep

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// Defaults of the connection options.
const (
	DefaultURL     = "https://gateway.smallstep.com/api"
	DefaultVersion = "2023-03-01"
	DefaultTimeout = 30
	// DefaultRetries and DefaultRetryTimeout bound the retries of one
	// idempotent request: five more tries, within two minutes.
	DefaultRetries      = 5
	DefaultRetryTimeout = 120
)

// ConnectionOptions are the options every API module accepts, declared once
// here and once in the doc fragment plugins/doc_fragments/api.py.
func ConnectionOptions() map[string]*ansible.Option {
	return map[string]*ansible.Option{
		"api_url":        {Type: ansible.TypeStr, Default: DefaultURL, EnvFallback: []string{"SMALLSTEP_API_URL"}},
		"api_token":      {Type: ansible.TypeStr, Required: true, NoLog: true, EnvFallback: []string{"SMALLSTEP_API_TOKEN"}},
		"api_version":    {Type: ansible.TypeStr, Default: DefaultVersion},
		"validate_certs": {Type: ansible.TypeBool, Default: true},
		"ca_path":        {Type: ansible.TypePath},
		"timeout":        {Type: ansible.TypeInt, Default: DefaultTimeout},
		"retries":        {Type: ansible.TypeInt, Default: DefaultRetries},
		"retry_timeout":  {Type: ansible.TypeInt, Default: DefaultRetryTimeout},
		"allow_http":     {Type: ansible.TypeBool, Default: false},
	}
}

// MaxNameLength bounds slugs, IDs and display names.
const MaxNameLength = 255

// CheckNames checks options that name things (slugs, IDs, display names):
// set ones must not be empty, too long, or hold control characters or
// invalid UTF-8. An empty slug would address the list above the object;
// the rest would fail at the API or corrupt what the dashboard shows.
func CheckNames(p ansible.Params, options ...string) error {
	for _, o := range options {
		v, ok := p[o].(string)
		if !ok {
			continue
		}
		switch {
		case strings.TrimSpace(v) == "":
			return fmt.Errorf("%s must not be empty", o)
		case v == "." || v == "..":
			// A proxy that normalises paths would turn .../instances/..
			// into the collection itself.
			return fmt.Errorf("%s must not be %q", o, v)
		case strings.TrimSpace(v) != v:
			return fmt.Errorf("%s %q starts or ends with white space", o, v)
		case utf8.RuneCountInString(v) > MaxNameLength:
			return fmt.Errorf("%s is %d characters long; at most %d are accepted", o, utf8.RuneCountInString(v), MaxNameLength)
		}
		for i, r := range v {
			if r == utf8.RuneError || unicode.IsControl(r) {
				return fmt.Errorf("%s holds a control character or invalid UTF-8 at byte %d; use printable text", o, i)
			}
		}
	}
	return nil
}

// CheckCollectionSlugs checks options that hold a device collection's slug:
// CheckNames, and then no capital letter and no '/'. The API calls the slug
// "a lowercase name identifying the collection"; one it would refuse or
// fold to lower case would pass on the simulator and break on the gateway
// (or make every run look for a collection it never finds). A '/' would
// split the slug's path segment at a proxy that decodes %2F.
func CheckCollectionSlugs(p ansible.Params, options ...string) error {
	if err := CheckNames(p, options...); err != nil {
		return err
	}
	for _, o := range options {
		v, ok := p[o].(string)
		if !ok {
			continue
		}
		if strings.ContainsRune(v, '/') {
			return fmt.Errorf("%s %q holds a '/'; a device collection's slug is one lowercase name, such as %q", o, v, strings.ToLower(strings.ReplaceAll(v, "/", "-")))
		}
		if strings.ToLower(v) != v {
			return fmt.Errorf("%s %q has capital letters; a device collection's slug is lowercase: %q", o, v, strings.ToLower(v))
		}
	}
	return nil
}

// PendingCollection is the check-mode warning of modules whose device
// collection does not exist yet.
const PendingCollection = "device collection %q does not exist yet; check mode reports this change as if an earlier task created it, a real run fails unless one does"

// Connect checks the connection options and returns a client, passing its
// warnings (such as certificate checks being off) to the module.
func Connect(m *ansible.Module) (*Client, error) {
	c, err := New(m.Params)
	if err != nil {
		return nil, err
	}
	for _, w := range c.Warnings {
		m.Warn("%s", w)
	}
	return c, nil
}

package conformance

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/authority"
	"github.com/stepfleet/smallstep/modules-src/internal/collection"
	"github.com/stepfleet/smallstep/modules-src/internal/device"
	"github.com/stepfleet/smallstep/modules-src/internal/devices"
	"github.com/stepfleet/smallstep/modules-src/internal/ekinfo"
	"github.com/stepfleet/smallstep/modules-src/internal/enrollment"
	"github.com/stepfleet/smallstep/modules-src/internal/info"
	"github.com/stepfleet/smallstep/modules-src/internal/workload"
)

const secret = "s3cr3t-token-value"

type module struct {
	spec func() *ansible.Spec
	run  ansible.Handler
	// valid is a minimal set of options that passes validation.
	valid map[string]any
}

var goodURI = "urn:ek:sha256:" + strings.Repeat("A", 43) + "="

var modules = map[string]module{
	"device_collection":      {collection.Spec, collection.Run, map[string]any{"slug": "fleet", "device_type": "tpm"}},
	"workload":               {workload.Spec, workload.Run, map[string]any{"collection": "fleet", "slug": "web", "workload_type": "nginx"}},
	"device":                 {device.Spec, device.Run, map[string]any{"collection": "fleet", "instance_id": goodURI}},
	"authority_info":         {authority.Spec, authority.Run, map[string]any{}},
	"device_collection_info": {info.CollectionSpec, info.RunCollection, map[string]any{"slug": "fleet"}},
	"workload_info":          {info.WorkloadSpec, info.RunWorkload, map[string]any{"collection": "fleet", "slug": "web"}},
	"device_info":            {info.DeviceSpec, info.RunDevice, map[string]any{"collection": "fleet"}},
	"enrollment_token":       {enrollment.Spec, enrollment.Run, map[string]any{"collection": "fleet", "instance_id": goodURI}},
	"devices":                {devices.Spec, devices.Run, map[string]any{"collection": "fleet", "devices": []any{map[string]any{"instance_id": goodURI}}}},
}

// countingServer fails the test's expectations by counting: bad input
// must not reach it at all.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"message":"should not be called"}`, http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func run(t *testing.T, name string, m module, srvURL string, override map[string]any) map[string]any {
	t.Helper()
	args := map[string]any{"api_url": srvURL, "api_token": secret}
	for k, v := range m.valid {
		args[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(args, k)
			continue
		}
		args[k] = v
	}
	b, err := json.Marshal(args)
	require.NoError(t, err)
	return ansible.Execute(name, m.spec(), b, func(string) (string, bool) { return "", false }, m.run)
}

// Options every API module shares, and how to break each.
var connectionCases = []struct {
	name     string
	override map[string]any
	want     []string
}{
	{"unknown option", map[string]any{"colour": "red"}, []string{"Unsupported parameters", "colour", "Supported parameters include", "api_url"}},
	{"timeout not an int", map[string]any{"timeout": "soon"}, []string{"timeout", "int"}},
	{"timeout out of range", map[string]any{"timeout": -1}, []string{"timeout must be a positive number"}},
	{"retries out of range", map[string]any{"retries": 1000}, []string{"retries must be between 0 and 100"}},
	{"validate_certs not a bool", map[string]any{"validate_certs": "maybe"}, []string{"validate_certs", "valid booleans include"}},
	{"api_url not a URL", map[string]any{"api_url": "gateway.smallstep.com"}, []string{"api_url", "not a valid http(s) URL"}},
	{"api_url plain http elsewhere", map[string]any{"api_url": "http://api.example.com/api"}, []string{"api_url", "allow_http"}},
	{"api_url with an empty port", map[string]any{"api_url": "http://127.0.0.1:/api"}, []string{"api_url", "empty port"}},
	{"token missing", map[string]any{"api_token": nil}, []string{"missing required arguments: api_token", "environment variable SMALLSTEP_API_TOKEN"}},
	{"token with a newline", map[string]any{"api_token": secret + "\nX-Evil: 1"}, []string{"api_token is empty or holds whitespace"}},
	{"ca_path missing", map[string]any{"ca_path": "/nonexistent/ca.pem"}, []string{"ca_path", "cannot read"}},
}

var moduleCases = map[string][]struct {
	name     string
	override map[string]any
	want     []string
}{
	"device_collection": {
		{"bad state", map[string]any{"state": "gone"}, []string{"value of state must be one of: present, absent, got: gone"}},
		{"bad device_type", map[string]any{"device_type": "vmware"}, []string{"device_type must be one of: aws-vm, azure-vm, gcp-vm, tpm"}},
		{"empty slug", map[string]any{"slug": ""}, []string{"slug must not be empty"}},
		{"slug with a control character", map[string]any{"slug": "a\tb"}, []string{"slug holds a control character"}},
		{"very long slug", map[string]any{"slug": strings.Repeat("s", 10000)}, []string{"slug is 10000 characters long"}},
		{"conflicting type options", map[string]any{"aws_vm": map[string]any{"accounts": []any{"1"}}}, []string{"aws_vm is set but device_type is tpm"}},
		{"two type options", map[string]any{"device_type": "aws-vm", "aws_vm": map[string]any{"accounts": []any{"1"}}, "gcp_vm": map[string]any{"project_ids": []any{"p"}}}, []string{"mutually exclusive", "aws_vm", "gcp_vm"}},
		{"aws without its option", map[string]any{"device_type": "aws-vm"}, []string{"device_type is aws-vm but all of the following are missing: aws_vm"}},
		{"azure missing tenant", map[string]any{"device_type": "azure-vm", "azure_vm": map[string]any{"resource_groups": []any{"g"}}}, []string{"missing required arguments: tenant_id found in azure_vm"}},
		{"gcp with neither list", map[string]any{"device_type": "gcp-vm", "gcp_vm": map[string]any{}}, []string{"one of the following is required: project_ids, service_accounts found in gcp_vm"}},
		{"unknown tpm field", map[string]any{"tpm": map[string]any{"force_cm": true}}, []string{"force_cm", "Supported parameters include", "force_cn"}},
		{"purge not a bool", map[string]any{"purge": "sometimes"}, []string{"purge", "valid booleans"}},
		{"no device_type when present", map[string]any{"device_type": nil}, []string{"state is present but all of the following are missing: device_type"}},
	},
	"workload": {
		{"bad workload_type", map[string]any{"workload_type": "iis"}, []string{"workload_type must be one of", "nginx", "zookeeper"}},
		{"bad mode", map[string]any{"certificate_info": map[string]any{"mode": "abc"}}, []string{"certificate_info.mode", "'0400'"}},
		{"mode out of range", map[string]any{"certificate_info": map[string]any{"mode": 99999}}, []string{"certificate_info.mode"}},
		{"bad duration", map[string]any{"certificate_info": map[string]any{"duration": "a day"}}, []string{"certificate_info.duration", "24h"}},
		{"bad certificate type", map[string]any{"certificate_info": map[string]any{"type": "PGP"}}, []string{"certificate_info.type must be one of: X509, SSH_USER, SSH_HOST"}},
		{"uid not an int", map[string]any{"certificate_info": map[string]any{"uid": "root"}}, []string{"certificate_info.uid", "int"}},
		{"bad key type", map[string]any{"key_info": map[string]any{"type": "DSA"}}, []string{"key_info.type must be one of", "ED25519"}},
		{"signal without pid_file", map[string]any{"reload_info": map[string]any{"method": "SIGNAL", "signal": 1}}, []string{"method is SIGNAL but all of the following are missing: pid_file"}},
		{"dbus without unit_name", map[string]any{"reload_info": map[string]any{"method": "DBUS"}}, []string{"method is DBUS but all of the following are missing: unit_name"}},
		{"hooks not a dict", map[string]any{"hooks": []any{"x"}}, []string{"hooks", "dict"}},
		{"unknown hook", map[string]any{"hooks": map[string]any{"revoke": map[string]any{}}}, []string{"revoke", "sign"}},
		{"static_sans not a list", map[string]any{"static_sans": map[string]any{"a": 1}}, []string{"static_sans", "list"}},
		{"empty collection", map[string]any{"collection": " "}, []string{"collection must not be empty"}},
		{"dot-dot slug", map[string]any{"slug": ".."}, []string{`slug must not be ".."`}},
		{"negative duration", map[string]any{"certificate_info": map[string]any{"duration": "-1h"}}, []string{"certificate_info.duration", "positive"}},
		{"negative uid", map[string]any{"certificate_info": map[string]any{"uid": -1}}, []string{"certificate_info.uid must be 0 or more"}},
		{"signal out of range", map[string]any{"reload_info": map[string]any{"method": "SIGNAL", "pid_file": "/run/x.pid", "signal": 99}}, []string{"reload_info.signal must be a signal number from 1 to 64"}},
		{"empty SAN", map[string]any{"static_sans": []any{"a.example", ""}}, []string{"static_sans holds an empty entry"}},
		{"duplicate SAN", map[string]any{"static_sans": []any{"a.example", "a.example"}}, []string{`static_sans lists "a.example" twice`}},
	},
	"enrollment_token": {
		{"malformed TPM URI", map[string]any{"instance_id": "urn:ek:sha256:bad"}, []string{"instance_id", "base64"}},
	},
	"device_info": {
		{"malformed TPM URI", map[string]any{"instance_id": "urn:ek:sha256:bad"}, []string{"instance_id", "base64"}},
	},
	"device_collection_info": {
		{"bad device_type", map[string]any{"slug": nil, "device_type": "vmware"}, []string{"device_type must be one of: aws-vm, azure-vm, gcp-vm, tpm"}},
		{"device_type with a slug", map[string]any{"device_type": "tpm"}, []string{"mutually exclusive", "slug", "device_type"}},
	},
	"devices": {
		{"duplicate IDs", map[string]any{"devices": []any{map[string]any{"instance_id": goodURI}, map[string]any{"instance_id": goodURI}}}, []string{"devices[0] and devices[1] both have instance_id"}},
		{"malformed TPM URI", map[string]any{"devices": []any{map[string]any{"instance_id": "urn:ek:sha256:abc"}}}, []string{"instance_id", "base64"}},
		{"parallel out of range", map[string]any{"parallel": 0}, []string{"parallel"}},
		{"device without an ID", map[string]any{"devices": []any{map[string]any{"data": map[string]any{}}}}, []string{"instance_id"}},
	},
	"device": {
		{"malformed TPM URI", map[string]any{"instance_id": "urn:ek:sha256:abc"}, []string{"instance_id", "base64"}},
		{"TPM URI without padding", map[string]any{"instance_id": strings.TrimSuffix(goodURI, "=")}, []string{"instance_id", "base64"}},
		{"not a TPM ID for a tpm device", map[string]any{"instance_id": "i-0d460b88a96dfdd08", "device_type": "tpm"}, []string{"instance_id", "urn:ek:sha256:"}},
		{"bad EC2 ID", map[string]any{"instance_id": "i-XYZ", "device_type": "aws-vm"}, []string{"instance_id", "EC2 instance ID"}},
		{"bad device_type", map[string]any{"device_type": "vmware"}, []string{"device_type must be one of: aws-vm, azure-vm, gcp-vm, tpm"}},
		{"data not a dict", map[string]any{"data": []any{1, 2}}, []string{"data", "dict"}},
		{"data too large", map[string]any{"data": map[string]any{"blob": strings.Repeat("x", 2<<20)}}, []string{"data is", "bytes as JSON"}},
		{"ID with invalid UTF-8", map[string]any{"instance_id": "host\xff1"}, []string{"instance_id holds a control character or invalid UTF-8"}},
		{"bad state", map[string]any{"state": "registered"}, []string{"value of state must be one of: present, absent"}},
		{"dot-dot ID", map[string]any{"instance_id": ".."}, []string{`instance_id must not be ".."`}},
		{"upper-case TPM URI", map[string]any{"instance_id": "URN:EK:SHA256:" + strings.Repeat("A", 43) + "="}, []string{"instance_id", "lower case"}},
		{"TPM URI with a leading space", map[string]any{"instance_id": " " + goodURI}, []string{"instance_id"}},
	},
}

func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	for name, m := range modules {
		cases := append(append([]struct {
			name     string
			override map[string]any
			want     []string
		}{}, connectionCases...), moduleCases[name]...)
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				srv, n := countingServer(t)
				res := run(t, name, m, srv.URL, c.override)
				require.Equal(t, true, res["failed"], "%v", res)
				require.Equal(t, false, res["changed"])
				msg, _ := res["msg"].(string)
				for _, w := range c.want {
					require.Contains(t, msg, w)
				}
				require.Zero(t, n.Load(), "no request may be sent")
				out, err := json.Marshal(res)
				require.NoError(t, err)
				require.NotContains(t, string(out), secret)
			})
		}
	}
}

// The option holding a device collection's slug, in each module that has one.
var slugOption = map[string]string{
	"device_collection":      "slug",
	"device_collection_info": "slug",
	"workload":               "collection",
	"workload_info":          "collection",
	"device":                 "collection",
	"device_info":            "collection",
	"devices":                "collection",
	"enrollment_token":       "collection",
}

func TestCollectionSlugIsLowercaseWithoutSlash(t *testing.T) {
	for name, option := range slugOption {
		for slug, want := range map[string]string{"Fleet": "has capital letters", "a/b": "holds a '/'"} {
			t.Run(name+"/"+slug, func(t *testing.T) {
				srv, n := countingServer(t)
				res := run(t, name, modules[name], srv.URL, map[string]any{option: slug})
				require.Equal(t, true, res["failed"], "%v", res)
				require.Contains(t, res["msg"], option+" "+strconv.Quote(slug)+" "+want)
				require.Zero(t, n.Load(), "no request may be sent")
			})
		}
	}
}

func TestTargetModuleRefusesBadInput(t *testing.T) {
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"ek_type": "rsa1024"}, "value of ek_type must be one of: rsa2048, ecc-p256"},
		{map[string]any{"fail_if_missing": "perhaps"}, "fail_if_missing"},
		{map[string]any{"api_token": secret}, "Unsupported parameters"},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.args)
		require.NoError(t, err)
		res := ansible.Execute("tpm_ek_info", ekinfo.Spec(), b, func(string) (string, bool) { return "", false }, ekinfo.Run)
		require.Equal(t, true, res["failed"])
		require.Contains(t, res["msg"], c.want)
	}
}

package ansible

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// envMap is a getenv over a fixed map, so tests never read the real
// environment.
func envMap(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// execute runs a module that does nothing and returns its result and the
// parameters its handler saw (nil when validation failed before it).
func execute(t *testing.T, spec *Spec, args map[string]any, env map[string]string) (map[string]any, Params) {
	t.Helper()
	b, err := json.Marshal(args)
	require.NoError(t, err)
	var seen Params
	res := Execute("test_mod", spec, b, envMap(env), func(m *Module) error {
		seen = m.Params
		return nil
	})
	return res, seen
}

func opts(o map[string]*Option) *Spec { return &Spec{Options: o} }

// itemsSpec is a list of dicts, each with a required name and a port that
// defaults to 443.
func itemsSpec() *Spec {
	return opts(map[string]*Option{
		"items": {Type: TypeList, Elements: TypeDict, Options: opts(map[string]*Option{
			"name": {Required: true},
			"port": {Type: TypeInt, Default: 443},
		})},
	})
}

func TestValidateAccepts(t *testing.T) {
	cases := []struct {
		name string
		spec *Spec
		args map[string]any
		env  map[string]string
		want map[string]any // checked key by key; other declared keys are not
	}{
		{
			name: "bool from yes, off and 1",
			spec: opts(map[string]*Option{"a": {Type: TypeBool}, "b": {Type: TypeBool}, "c": {Type: TypeBool}}),
			args: map[string]any{"a": "yes", "b": "off", "c": 1},
			want: map[string]any{"a": true, "b": false, "c": true},
		},
		{
			name: "int from string and whole number",
			spec: opts(map[string]*Option{"a": {Type: TypeInt}, "b": {Type: TypeInt}}),
			args: map[string]any{"a": "42", "b": 42.0},
			want: map[string]any{"a": int64(42), "b": int64(42)},
		},
		{
			name: "float from string",
			spec: opts(map[string]*Option{"ratio": {Type: TypeFloat}}),
			args: map[string]any{"ratio": "0.5"},
			want: map[string]any{"ratio": 0.5},
		},
		{
			name: "untyped option is str",
			spec: opts(map[string]*Option{"name": {}}),
			args: map[string]any{"name": 7},
			want: map[string]any{"name": "7"},
		},
		{
			name: "list from comma separated string",
			spec: opts(map[string]*Option{"tags": {Type: TypeList, Elements: TypeStr}}),
			args: map[string]any{"tags": "a,b"},
			want: map[string]any{"tags": []any{"a", "b"}},
		},
		{
			name: "list elements converted",
			spec: opts(map[string]*Option{"ports": {Type: TypeList, Elements: TypeInt}}),
			args: map[string]any{"ports": []any{"80", 443}},
			want: map[string]any{"ports": []any{int64(80), int64(443)}},
		},
		{
			name: "list without elements kept as given",
			spec: opts(map[string]*Option{"things": {Type: TypeList}}),
			args: map[string]any{"things": []any{"a", 1, true}},
			want: map[string]any{"things": []any{"a", int64(1), true}},
		},
		{
			name: "dict from json string",
			spec: opts(map[string]*Option{"labels": {Type: TypeDict}}),
			args: map[string]any{"labels": `{"env": "prod"}`},
			want: map[string]any{"labels": map[string]any{"env": "prod"}},
		},
		{
			name: "dict from k=v",
			spec: opts(map[string]*Option{"labels": {Type: TypeDict}}),
			args: map[string]any{"labels": "env=prod team=pki"},
			want: map[string]any{"labels": map[string]any{"env": "prod", "team": "pki"}},
		},
		{
			name: "raw kept as given",
			spec: opts(map[string]*Option{"body": {Type: TypeRaw}}),
			args: map[string]any{"body": map[string]any{"a": []any{1}}},
			want: map[string]any{"body": map[string]any{"a": []any{int64(1)}}},
		},
		{
			name: "internal keys accepted, known and future",
			spec: opts(map[string]*Option{"name": {}}),
			args: map[string]any{
				"name": "x", "_ansible_check_mode": false, "_ansible_diff": false, "_ansible_no_log": false,
				"_ansible_verbosity": 0, "_ansible_version": "2.14.18", "_ansible_module_name": "test_mod",
				"_ansible_tmpdir": "/tmp/x", "_ansible_remote_tmp": "~/.ansible/tmp", "_ansible_keep_remote_files": false,
				"_ansible_debug": false, "_ansible_syslog_facility": "LOG_USER", "_ansible_selinux_special_fs": []any{"nfs"},
				"_ansible_string_conversion_action": "warn", "_ansible_socket": nil, "_ansible_shell_executable": "/bin/sh",
				"_ansible_new_thing": map[string]any{"from": "the future"},
			},
			want: map[string]any{"name": "x"},
		},
		{
			name: "alias moves to its option",
			spec: opts(map[string]*Option{"slug": {Aliases: []string{"name", "id"}}}),
			args: map[string]any{"id": "c1"},
			want: map[string]any{"slug": "c1"},
		},
		{
			name: "choices accept a listed value",
			spec: opts(map[string]*Option{"state": {Choices: []any{"present", "absent"}}}),
			args: map[string]any{"state": "absent"},
			want: map[string]any{"state": "absent"},
		},
		{
			name: "choices of an int option compare converted values",
			spec: opts(map[string]*Option{"size": {Type: TypeInt, Choices: []any{1, 2}}}),
			args: map[string]any{"size": "2"},
			want: map[string]any{"size": int64(2)},
		},
		{
			name: "choices apply to each list element",
			spec: opts(map[string]*Option{"kinds": {Type: TypeList, Elements: TypeStr, Choices: []any{"a", "b"}}}),
			args: map[string]any{"kinds": "a,b,a"},
			want: map[string]any{"kinds": []any{"a", "b", "a"}},
		},
		{
			name: "defaults applied and converted",
			spec: opts(map[string]*Option{
				"state": {Default: "present"}, "count": {Type: TypeInt, Default: 3},
				"tags": {Type: TypeList, Default: "a,b"}, "purge": {Type: TypeBool, Default: false},
			}),
			args: map[string]any{},
			want: map[string]any{"state": "present", "count": int64(3), "tags": []any{"a", "b"}, "purge": false},
		},
		{
			name: "given value beats default",
			spec: opts(map[string]*Option{"state": {Default: "present"}}),
			args: map[string]any{"state": "absent"},
			want: map[string]any{"state": "absent"},
		},
		{
			name: "null is unset, so the default applies",
			spec: opts(map[string]*Option{"state": {Default: "present"}}),
			args: map[string]any{"state": nil},
			want: map[string]any{"state": "present"},
		},
		{
			name: "unset option without default is present as nil",
			spec: opts(map[string]*Option{"name": {}, "count": {Type: TypeInt}}),
			args: map[string]any{},
			want: map[string]any{"name": nil, "count": nil},
		},
		{
			name: "sub-options validated, defaulted and converted",
			spec: opts(map[string]*Option{"tpm": {Type: TypeDict, Options: opts(map[string]*Option{
				"force_cn": {Type: TypeBool}, "require_eab": {Type: TypeBool, Default: true}, "roots": {Type: TypePath},
			})}}),
			args: map[string]any{"tpm": map[string]any{"force_cn": "yes"}},
			want: map[string]any{"tpm": map[string]any{"force_cn": true, "require_eab": true, "roots": nil}},
		},
		{
			name: "sub-option defaults not applied when the parent is absent",
			spec: opts(map[string]*Option{"tpm": {Type: TypeDict, Options: opts(map[string]*Option{
				"require_eab": {Type: TypeBool, Default: true},
			})}}),
			args: map[string]any{},
			want: map[string]any{"tpm": nil},
		},
		{
			name: "sub-option defaults applied when the parent has a default",
			spec: opts(map[string]*Option{"tpm": {Type: TypeDict, Default: map[string]any{}, Options: opts(map[string]*Option{
				"require_eab": {Type: TypeBool, Default: true},
			})}}),
			args: map[string]any{},
			want: map[string]any{"tpm": map[string]any{"require_eab": true}},
		},
		{
			name: "sub-options of a dict given as a json string",
			spec: opts(map[string]*Option{"creds": {Type: TypeDict, Options: opts(map[string]*Option{"port": {Type: TypeInt}})}}),
			args: map[string]any{"creds": `{"port": "8443"}`},
			want: map[string]any{"creds": map[string]any{"port": int64(8443)}},
		},
		{
			name: "sub-option alias",
			spec: opts(map[string]*Option{"creds": {Type: TypeDict, Options: opts(map[string]*Option{"user": {Aliases: []string{"login"}}})}}),
			args: map[string]any{"creds": map[string]any{"login": "bob"}},
			want: map[string]any{"creds": map[string]any{"user": "bob"}},
		},
		{
			name: "nested sub-options two levels deep",
			spec: opts(map[string]*Option{"outer": {Type: TypeDict, Options: opts(map[string]*Option{
				"inner": {Type: TypeDict, Options: opts(map[string]*Option{"n": {Type: TypeInt, Default: 1}})},
			})}}),
			args: map[string]any{"outer": map[string]any{"inner": map[string]any{}}},
			want: map[string]any{"outer": map[string]any{"inner": map[string]any{"n": int64(1)}}},
		},
		{
			name: "list of dicts validated per element with defaults",
			spec: itemsSpec(),
			args: map[string]any{"items": []any{map[string]any{"name": "a"}, "name=b port=80"}},
			want: map[string]any{"items": []any{
				map[string]any{"name": "a", "port": int64(443)},
				map[string]any{"name": "b", "port": int64(80)},
			}},
		},
		{
			name: "env fallback fills a required option",
			spec: opts(map[string]*Option{"token": {Required: true, EnvFallback: []string{"STEP_TOKEN"}}}),
			env:  map[string]string{"STEP_TOKEN": "from-env"},
			want: map[string]any{"token": "from-env"},
		},
		{
			name: "env fallback takes the first variable set",
			spec: opts(map[string]*Option{"url": {EnvFallback: []string{"A_URL", "B_URL"}}}),
			env:  map[string]string{"B_URL": "https://b"},
			want: map[string]any{"url": "https://b"},
		},
		{
			name: "env fallback is converted to the option's type",
			spec: opts(map[string]*Option{"verify": {Type: TypeBool, EnvFallback: []string{"VERIFY"}}}),
			env:  map[string]string{"VERIFY": "no"},
			want: map[string]any{"verify": false},
		},
		{
			name: "given value beats env fallback",
			spec: opts(map[string]*Option{"url": {EnvFallback: []string{"A_URL"}}}),
			args: map[string]any{"url": "https://given"},
			env:  map[string]string{"A_URL": "https://env"},
			want: map[string]any{"url": "https://given"},
		},
		{
			name: "alias beats env fallback",
			spec: opts(map[string]*Option{"url": {Aliases: []string{"endpoint"}, EnvFallback: []string{"A_URL"}}}),
			args: map[string]any{"endpoint": "https://alias"},
			env:  map[string]string{"A_URL": "https://env"},
			want: map[string]any{"url": "https://alias"},
		},
		{
			name: "env fallback beats default",
			spec: opts(map[string]*Option{"url": {Default: "https://default", EnvFallback: []string{"A_URL"}}}),
			env:  map[string]string{"A_URL": "https://env"},
			want: map[string]any{"url": "https://env"},
		},
		{
			name: "required_if not triggered by another value",
			spec: &Spec{
				Options:    map[string]*Option{"state": {}, "name": {}},
				RequiredIf: []RequiredIf{{Key: "state", Value: "present", Requires: []string{"name"}}},
			},
			args: map[string]any{"state": "absent"},
			want: map[string]any{"state": "absent", "name": nil},
		},
		{
			name: "required_if any satisfied by one",
			spec: &Spec{
				Options:    map[string]*Option{"mode": {}, "a": {}, "b": {}},
				RequiredIf: []RequiredIf{{Key: "mode", Value: "custom", Requires: []string{"a", "b"}, Any: true}},
			},
			args: map[string]any{"mode": "custom", "b": "x"},
			want: map[string]any{"b": "x"},
		},
		{
			name: "required_one_of satisfied by a default, as in ansible",
			spec: &Spec{
				Options:       map[string]*Option{"a": {}, "b": {Default: "x"}},
				RequiredOneOf: [][]string{{"a", "b"}},
			},
			want: map[string]any{"a": nil, "b": "x"},
		},
		{
			name: "required_together satisfied",
			spec: &Spec{Options: map[string]*Option{"cert": {}, "key": {}}, RequiredTogether: [][]string{{"cert", "key"}}},
			args: map[string]any{"cert": "c", "key": "k"},
			want: map[string]any{"cert": "c", "key": "k"},
		},
		{
			name: "mutually exclusive options, one given",
			spec: &Spec{Options: map[string]*Option{"a": {}, "b": {}}, MutuallyExclusive: [][]string{{"a", "b"}}},
			args: map[string]any{"a": "x"},
			want: map[string]any{"a": "x", "b": nil},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, p := execute(t, tc.spec, tc.args, tc.env)
			require.NotContains(t, res, "failed", "msg: %v", res["msg"])
			require.NotNil(t, p)
			for name := range tc.spec.Options {
				require.Contains(t, p, name, "every declared option is in Params")
			}
			for k, v := range tc.want {
				require.Equal(t, v, p[k], "option %s", k)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		spec *Spec
		args map[string]any
		env  map[string]string
		msgs []string // each must appear in the msg
	}{
		{
			name: "invalid bool names the option and lists valid booleans",
			spec: opts(map[string]*Option{"enabled": {Type: TypeBool}}),
			args: map[string]any{"enabled": "maybe"},
			msgs: []string{
				"argument 'enabled' is of type str and we were unable to convert to bool",
				"'maybe' is not a valid boolean",
				"valid booleans include: y, yes, on, 1, true, t, n, no, off, 0, false, f",
			},
		},
		{
			name: "int from fraction",
			spec: opts(map[string]*Option{"count": {Type: TypeInt}}),
			args: map[string]any{"count": 4.5},
			msgs: []string{"argument 'count' is of type number and we were unable to convert to int: 4.5 is not a valid integer"},
		},
		{
			name: "int from word",
			spec: opts(map[string]*Option{"count": {Type: TypeInt}}),
			args: map[string]any{"count": "x"},
			msgs: []string{"argument 'count' is of type str and we were unable to convert to int: 'x' is not a valid integer"},
		},
		{
			name: "str from a list",
			spec: opts(map[string]*Option{"name": {}}),
			args: map[string]any{"name": []any{"a"}},
			msgs: []string{"argument 'name' is of type list and we were unable to convert to str"},
		},
		{
			name: "unknown options named with the valid ones and aliases",
			spec: opts(map[string]*Option{"slug": {Aliases: []string{"name"}}, "state": {}}),
			args: map[string]any{"bogus": 1, "other": 2, "state": "present"},
			msgs: []string{"Unsupported parameters for (test_mod) module: bogus, other. Supported parameters include: slug, name, state."},
		},
		{
			name: "ansible_ without the leading underscore is not internal",
			spec: opts(map[string]*Option{"name": {}}),
			args: map[string]any{"ansible_check_mode": true},
			msgs: []string{"Unsupported parameters for (test_mod) module: ansible_check_mode."},
		},
		{
			name: "alias and option both set",
			spec: opts(map[string]*Option{"slug": {Aliases: []string{"name"}}}),
			args: map[string]any{"slug": "a", "name": "b"},
			msgs: []string{"both option slug and its alias name are set"},
		},
		{
			name: "required missing",
			spec: opts(map[string]*Option{"b": {Required: true}, "a": {Required: true}, "c": {}}),
			args: map[string]any{"c": "x"},
			msgs: []string{"missing required arguments: a, b"},
		},
		{
			name: "required given as null",
			spec: opts(map[string]*Option{"a": {Required: true}}),
			args: map[string]any{"a": nil},
			msgs: []string{"missing required arguments: a"},
		},
		{
			name: "required with an env fallback that is not set",
			spec: opts(map[string]*Option{"token": {Required: true, EnvFallback: []string{"STEP_TOKEN"}}}),
			env:  map[string]string{"OTHER": "x"},
			msgs: []string{"missing required arguments: token; token can also come from the environment variable STEP_TOKEN"},
		},
		{
			name: "env fallback that cannot be converted",
			spec: opts(map[string]*Option{"verify": {Type: TypeBool, EnvFallback: []string{"VERIFY"}}}),
			env:  map[string]string{"VERIFY": "sometimes"},
			msgs: []string{"argument 'verify' is of type str and we were unable to convert to bool: 'sometimes' is not a valid boolean"},
		},
		{
			name: "choices names the option and accepted values",
			spec: opts(map[string]*Option{"state": {Choices: []any{"present", "absent"}}}),
			args: map[string]any{"state": "gone"},
			msgs: []string{"value of state must be one of: present, absent, got: gone"},
		},
		{
			name: "choices for a list element",
			spec: opts(map[string]*Option{"kinds": {Type: TypeList, Elements: TypeStr, Choices: []any{"a", "b"}}}),
			args: map[string]any{"kinds": []any{"a", "c"}},
			msgs: []string{"value of kinds must be one of: a, b, got: c"},
		},
		{
			name: "a default outside the choices is a spec bug caught at run time",
			spec: opts(map[string]*Option{"state": {Default: "gone", Choices: []any{"present", "absent"}}}),
			msgs: []string{"value of state must be one of: present, absent, got: gone"},
		},
		{
			name: "element conversion",
			spec: opts(map[string]*Option{"ports": {Type: TypeList, Elements: TypeInt}}),
			args: map[string]any{"ports": []any{80, "http"}},
			msgs: []string{"elements of argument 'ports' are of type str and we were unable to convert to int: 'http' is not a valid integer"},
		},
		{
			name: "element of a list of dicts missing a required sub-option",
			spec: itemsSpec(),
			args: map[string]any{"items": []any{map[string]any{"name": "a"}, map[string]any{"port": 80}}},
			msgs: []string{"missing required arguments: name found in items[1]"},
		},
		{
			name: "element of a list of dicts with a bad sub-option type",
			spec: itemsSpec(),
			args: map[string]any{"items": []any{map[string]any{"name": "a", "port": "https"}}},
			msgs: []string{"argument 'items[0].port' is of type str and we were unable to convert to int"},
		},
		{
			name: "element of a list of dicts with an unknown key",
			spec: itemsSpec(),
			args: map[string]any{"items": []any{map[string]any{"name": "a", "bogus": 1}}},
			msgs: []string{"Unsupported parameters for items[0]: bogus. Supported parameters include: name, port."},
		},
		{
			name: "element of a list of dicts that is not a dict",
			spec: itemsSpec(),
			args: map[string]any{"items": []any{[]any{"a"}}},
			msgs: []string{"elements of argument 'items' are of type list and we were unable to convert to dict"},
		},
		{
			name: "sub-option unknown key",
			spec: opts(map[string]*Option{"creds": {Type: TypeDict, Options: opts(map[string]*Option{"user": {}})}}),
			args: map[string]any{"creds": map[string]any{"user": "u", "pass": "p"}},
			msgs: []string{"Unsupported parameters for creds: pass. Supported parameters include: user."},
		},
		{
			name: "nested sub-option unknown key",
			spec: opts(map[string]*Option{"outer": {Type: TypeDict, Options: opts(map[string]*Option{
				"inner": {Type: TypeDict, Options: opts(map[string]*Option{"n": {Type: TypeInt}})},
			})}}),
			args: map[string]any{"outer": map[string]any{"inner": map[string]any{"n": 1, "m": 2}}},
			msgs: []string{"Unsupported parameters for outer.inner: m. Supported parameters include: n."},
		},
		{
			name: "sub-option required when the parent is given",
			spec: opts(map[string]*Option{"azure": {Type: TypeDict, Options: opts(map[string]*Option{"tenant_id": {Required: true}})}}),
			args: map[string]any{"azure": map[string]any{}},
			msgs: []string{"missing required arguments: tenant_id found in azure"},
		},
		{
			name: "sub-option choices",
			spec: opts(map[string]*Option{"creds": {Type: TypeDict, Options: opts(map[string]*Option{"kind": {Choices: []any{"a"}}})}}),
			args: map[string]any{"creds": map[string]any{"kind": "b"}},
			msgs: []string{"value of creds.kind must be one of: a, got: b"},
		},
		{
			name: "sub-spec dependency checks",
			spec: opts(map[string]*Option{"gcp": {Type: TypeDict, Options: &Spec{
				Options:           map[string]*Option{"projects": {Type: TypeList}, "accounts": {Type: TypeList}, "x": {}, "y": {}},
				RequiredOneOf:     [][]string{{"projects", "accounts"}},
				MutuallyExclusive: [][]string{{"x", "y"}},
			}}}),
			args: map[string]any{"gcp": map[string]any{"x": "1", "y": "2"}},
			msgs: []string{
				"one of the following is required: projects, accounts found in gcp",
				"parameters are mutually exclusive: x|y found in gcp",
			},
		},
		{
			name: "mutually exclusive",
			spec: &Spec{Options: map[string]*Option{"a": {}, "b": {}, "c": {}}, MutuallyExclusive: [][]string{{"a", "b", "c"}}},
			args: map[string]any{"a": "1", "c": "3"},
			msgs: []string{"parameters are mutually exclusive: a|b|c"},
		},
		{
			name: "mutually exclusive through an alias",
			spec: &Spec{Options: map[string]*Option{"a": {Aliases: []string{"aa"}}, "b": {}}, MutuallyExclusive: [][]string{{"a", "b"}}},
			args: map[string]any{"aa": "1", "b": "2"},
			msgs: []string{"parameters are mutually exclusive: a|b"},
		},
		{
			name: "required_together",
			spec: &Spec{Options: map[string]*Option{"cert": {}, "key": {}}, RequiredTogether: [][]string{{"cert", "key"}}},
			args: map[string]any{"cert": "c"},
			msgs: []string{"parameters are required together: cert, key"},
		},
		{
			name: "required_together counts a default, as in ansible",
			spec: &Spec{Options: map[string]*Option{"a": {}, "b": {Default: "x"}}, RequiredTogether: [][]string{{"a", "b"}}},
			msgs: []string{"parameters are required together: a, b"},
		},
		{
			name: "required_one_of",
			spec: &Spec{Options: map[string]*Option{"a": {}, "b": {}}, RequiredOneOf: [][]string{{"a", "b"}}},
			msgs: []string{"one of the following is required: a, b"},
		},
		{
			name: "required_if all",
			spec: &Spec{
				Options:    map[string]*Option{"state": {}, "name": {}, "size": {}, "other": {}},
				RequiredIf: []RequiredIf{{Key: "state", Value: "present", Requires: []string{"name", "size", "other"}}},
			},
			args: map[string]any{"state": "present", "other": "o"},
			msgs: []string{"state is present but all of the following are missing: name, size"},
		},
		{
			name: "required_if any",
			spec: &Spec{
				Options:    map[string]*Option{"mode": {}, "a": {}, "b": {}},
				RequiredIf: []RequiredIf{{Key: "mode", Value: "custom", Requires: []string{"a", "b"}, Any: true}},
			},
			args: map[string]any{"mode": "custom"},
			msgs: []string{"mode is custom but any of the following are missing: a, b"},
		},
		{
			name: "required_if triggered by a default, as in ansible",
			spec: &Spec{
				Options:    map[string]*Option{"state": {Default: "present"}, "device_type": {}},
				RequiredIf: []RequiredIf{{Key: "state", Value: "present", Requires: []string{"device_type"}}},
			},
			msgs: []string{"state is present but all of the following are missing: device_type"},
		},
		{
			name: "required_if on a converted bool",
			spec: &Spec{
				Options:    map[string]*Option{"tls": {Type: TypeBool}, "cert": {}},
				RequiredIf: []RequiredIf{{Key: "tls", Value: true, Requires: []string{"cert"}}},
			},
			args: map[string]any{"tls": "yes"},
			msgs: []string{"tls is true but all of the following are missing: cert"},
		},
		{
			name: "required_if with a go int value on an int option",
			spec: &Spec{
				Options:    map[string]*Option{"replicas": {Type: TypeInt}, "leader": {}},
				RequiredIf: []RequiredIf{{Key: "replicas", Value: 3, Requires: []string{"leader"}}},
			},
			args: map[string]any{"replicas": "3"},
			msgs: []string{"replicas is 3 but all of the following are missing: leader"},
		},
		{
			name: "every error reported at once",
			spec: opts(map[string]*Option{"a": {Required: true}, "n": {Type: TypeInt}}),
			args: map[string]any{"n": "x", "zzz": 1},
			msgs: []string{
				"Unsupported parameters for (test_mod) module: zzz.",
				"missing required arguments: a",
				"argument 'n' is of type str",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, p := execute(t, tc.spec, tc.args, tc.env)
			require.Nil(t, p, "the handler must not run")
			require.Equal(t, true, res["failed"])
			require.Equal(t, false, res["changed"])
			msg, ok := res["msg"].(string)
			require.True(t, ok, "msg is a string: %#v", res["msg"])
			for _, want := range tc.msgs {
				require.Contains(t, msg, want)
			}
		})
	}
}

func TestExecuteRejectsArgsThatAreNotAnObject(t *testing.T) {
	for _, args := range []string{``, `not json`, `[1, 2]`, `"str"`} {
		t.Run(args, func(t *testing.T) {
			called := false
			res := Execute("test_mod", opts(nil), []byte(args), envMap(nil), func(*Module) error { called = true; return nil })
			require.False(t, called)
			require.Equal(t, true, res["failed"])
			require.True(t, strings.HasPrefix(res["msg"].(string), "test_mod: the args file is not a JSON object"), res["msg"])
		})
	}
}

func TestListOfDictElementsAreMaps(t *testing.T) {
	// Params documents dicts as map[string]any; list elements must be too,
	// so handlers can type-assert them.
	_, p := execute(t, itemsSpec(), map[string]any{"items": []any{map[string]any{"name": "a"}}}, nil)
	require.NotNil(t, p)
	item, ok := p.List("items")[0].(map[string]any)
	require.True(t, ok, "element is %T", p.List("items")[0])
	require.Equal(t, "a", item["name"])
}

func TestValidateLeavesArgsUntouched(t *testing.T) {
	spec := opts(map[string]*Option{"slug": {Aliases: []string{"name"}}, "n": {Type: TypeInt, Default: 1}})
	raw := map[string]any{"name": "x"}
	v := &validator{module: "m", getenv: envMap(nil)}
	p := v.validate(spec, raw, "")
	require.Empty(t, v.errs)
	require.Equal(t, Params{"slug": "x", "n": int64(1)}, p)
	require.Equal(t, map[string]any{"name": "x"}, raw)
}

func TestSpecMerge(t *testing.T) {
	base := &Spec{Options: map[string]*Option{"name": {}}, RequiredOneOf: [][]string{{"name"}}}
	merged := base.Merge(map[string]*Option{"api_token": {NoLog: true}})
	require.Len(t, base.Options, 1, "Merge must not change the base spec")
	require.Contains(t, merged.Options, "name")
	require.Contains(t, merged.Options, "api_token")
	require.Equal(t, base.RequiredOneOf, merged.RequiredOneOf)
}

func TestStringConversion(t *testing.T) {
	spec := &Spec{Options: map[string]*Option{
		"slug":  {Type: TypeStr},
		"token": {Type: TypeStr, NoLog: true},
		"ids":   {Type: TypeList, Elements: TypeStr},
		"devices": {Type: TypeList, Elements: TypeDict, Options: &Spec{Options: map[string]*Option{
			"instance_id": {Type: TypeStr},
		}}},
	}}
	args := map[string]any{
		"slug":    int64(83),
		"token":   int64(123456789),
		"ids":     []any{"a", int64(1)},
		"devices": []any{map[string]any{"instance_id": int64(4567)}, map[string]any{"instance_id": "x"}, map[string]any{"instance_id": true}},
	}
	run := func(action string) (Params, []string, []string) {
		v := &validator{module: "m", getenv: func(string) (string, bool) { return "", false }, strConv: action}
		p := v.validate(spec, args, "")
		return p, v.errs, v.conversionWarnings()
	}

	p, errs, warns := run("")
	require.Empty(t, errs)
	require.Equal(t, "83", p["slug"])
	require.Equal(t, []any{"a", "1"}, p["ids"])
	require.Equal(t, []string{
		"2 numbers or bools given for devices[].instance_id were converted to strings, the first the number 4567; if that is not what you meant, quote the value in the task (YAML reads an unquoted 0123 as 83 and 2024_01 as 202401)",
		"the number 1 given for ids[] was converted to a string; if that is not what you meant, quote the value in the task (YAML reads an unquoted 0123 as 83 and 2024_01 as 202401)",
		"the number 83 given for slug was converted to a string; if that is not what you meant, quote the value in the task (YAML reads an unquoted 0123 as 83 and 2024_01 as 202401)",
		"a number given for token was converted to a string; if that is not what you meant, quote the value in the task (YAML reads an unquoted 0123 as 83 and 2024_01 as 202401)",
	}, warns)

	_, errs, warns = run("ignore")
	require.Empty(t, errs)
	require.Empty(t, warns)

	_, errs, _ = run("error")
	require.Contains(t, errs, "argument 'slug' is of type number and we were unable to convert to str: quote the value, so that YAML keeps it as written")
	require.Contains(t, errs, "argument 'ids[1]' is of type number and we were unable to convert to str: quote the value, so that YAML keeps it as written")
	devErrs := 0
	for _, e := range errs {
		require.NotContains(t, e, "123456789")
		if strings.Contains(e, "devices[") {
			devErrs++
		}
	}
	require.Equal(t, 1, devErrs, "one error per option path: %v", errs)
}

package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Server-side defaults. The real API fills these in, so a client that
// compares what it sent with what it reads back has to normalise them; the
// simulator returns them for the same reason:
//   - deviceTypeConfiguration.audience of an azure-vm collection:
//     https://management.azure.com/ when absent or empty;
//   - workload certificateInfo: {"type": "X509"} when absent;
//   - workload keyInfo: {"type": "DEFAULT", "format": "DEFAULT"} when absent,
//     and each of type and format is DEFAULT when only the other is given;
//   - workload reloadInfo: {"method": "AUTOMATIC"} when absent.
const defaultAzureAudience = "https://management.azure.com/"

// maxBodyBytes bounds request bodies; real bodies are a few kilobytes.
const maxBodyBytes = 1 << 20

// decodeObject reads a request body that must be exactly one JSON object.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	data, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return parseObject(data)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("read request body: %v", err)
	}
	return data, nil
}

// parseObject decodes one JSON object. Numbers stay json.Number so that
// integers are checked, and stored, exactly.
func parseObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("request body is empty; expected a JSON object")
		}
		return nil, fmt.Errorf("request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("request body must be a JSON object, not %s", jsonType(v))
	}
	return m, nil
}

// checkSlug insists that the body names the object the path names, so a
// client cannot write one object while believing it wrote another.
func checkSlug(body map[string]any, slug string) error {
	if got := body["slug"].(string); got != slug {
		return fmt.Errorf("slug: %q does not match %q in the request path", got, slug)
	}
	return nil
}

// prepareDeviceCollection validates a PUT /device-collections/{slug} body
// in place and fills in the server's defaults.
func prepareDeviceCollection(slug string, body map[string]any) error {
	if err := check("", body, deviceCollectionRule); err != nil {
		return err
	}
	if err := checkSlug(body, slug); err != nil {
		return err
	}
	deviceType := body["deviceType"].(string)
	cfg := body["deviceTypeConfiguration"].(map[string]any)
	if err := check("deviceTypeConfiguration", cfg, deviceTypeConfigRules[deviceType]); err != nil {
		return fmt.Errorf("%v (deviceType %s)", err, deviceType)
	}
	switch deviceType {
	case "gcp-vm":
		if isEmpty(cfg["projectIDs"]) && isEmpty(cfg["serviceAccounts"]) {
			return errors.New("deviceTypeConfiguration: a gcp-vm collection needs at least one of projectIDs and serviceAccounts")
		}
	case "azure-vm":
		if isEmpty(cfg["audience"]) {
			cfg["audience"] = defaultAzureAudience
		}
	}
	return nil
}

// prepareWorkload validates a PUT .../workloads/{workloadSlug} body in place
// and fills in the server's defaults.
func prepareWorkload(slug string, body map[string]any) error {
	if err := check("", body, workloadRule); err != nil {
		return err
	}
	if err := checkSlug(body, slug); err != nil {
		return err
	}
	if reload, ok := body["reloadInfo"].(map[string]any); ok {
		var needs []string
		switch reload["method"] {
		case "SIGNAL":
			needs = []string{"pidFile", "signal"}
		case "DBUS":
			needs = []string{"unitName"}
		}
		for _, f := range needs {
			if isEmpty(reload[f]) {
				return fmt.Errorf("reloadInfo.%s: required when reloadInfo.method is %s", f, reload["method"])
			}
		}
	} else {
		body["reloadInfo"] = map[string]any{"method": "AUTOMATIC"}
	}
	if _, ok := body["certificateInfo"]; !ok {
		body["certificateInfo"] = map[string]any{"type": "X509"}
	}
	key, ok := body["keyInfo"].(map[string]any)
	if !ok {
		key = map[string]any{}
		body["keyInfo"] = key
	}
	for _, f := range []string{"type", "format"} {
		if isEmpty(key[f]) {
			key[f] = "DEFAULT"
		}
	}
	return nil
}

// prepareInstance validates a PUT /collections/{slug}/instances/{id} body
// and returns its data.
func prepareInstance(body map[string]any) (map[string]any, error) {
	if err := check("", body, instanceRule); err != nil {
		return nil, err
	}
	return body["data"].(map[string]any), nil
}

// isEmpty reports whether an optional field counts as not given: absent,
// an empty string or an empty array.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	}
	return false
}

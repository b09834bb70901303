package info

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/deviceid"
	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// DeviceSpec is device_info's argument spec.
func DeviceSpec() *ansible.Spec {
	return (&ansible.Spec{
		Options: map[string]*ansible.Option{
			"collection":  {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
			"instance_id": {Type: ansible.TypeStr, Aliases: []string{"id"}},
			"filters":     {Type: ansible.TypeDict},
		},
		// One device is asked for by its ID; filters select from the list.
		MutuallyExclusive: [][]string{{"instance_id", "filters"}},
	}).Merge(smallstep.ConnectionOptions())
}

// RunDevice is device_info: one device by its ID, or every device of the
// collection (all pages), keeping those whose data match filters. Filters
// are applied here: the API has no query on device data.
func RunDevice(m *ansible.Module) error {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "collection"); err != nil {
		return err
	}
	if err := smallstep.CheckNames(p, "instance_id"); err != nil {
		return err
	}
	if id := p.Str("instance_id"); id != "" {
		if err := deviceid.Check("", id); err != nil {
			return fmt.Errorf("instance_id: %v", err)
		}
	}
	filters := map[string]any(p.Dict("filters"))
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	collection := p.Str("collection")

	var devices []map[string]any
	if p.Has("instance_id") {
		obj, err := get(ctx, c, smallstep.Path("collections", collection, "instances", p.Str("instance_id")))
		if err != nil {
			return err
		}
		if obj != nil {
			devices = append(devices, obj)
		}
		m.Set("exists", obj != nil)
		m.Set("device", view(obj, "data"))
	} else {
		err := smallstep.List(ctx, c, smallstep.Path("collections", collection, "items"), func(page json.RawMessage) error {
			var items []map[string]any
			if err := jsonnum.Unmarshal(page, &items); err != nil {
				return err
			}
			for _, d := range items {
				if matches(d, filters) {
					devices = append(devices, d)
				}
			}
			return nil
		})
		if smallstep.IsNotFound(err) {
			// A device collection without a device yet may have no instance
			// collection to list: only a missing device collection is worth
			// a warning.
			coll, cerr := get(ctx, c, smallstep.Path("device-collections", collection))
			if cerr != nil {
				return cerr
			}
			if coll == nil {
				m.Warn("device collection %q does not exist; it has no devices", collection)
			}
			err = nil
		}
		if err != nil {
			return err
		}
	}
	views := make([]any, 0, len(devices))
	for _, d := range devices {
		views = append(views, view(d, "data"))
	}
	m.Set("devices", views)
	return nil
}

// matches reports whether every filter key is in the device's data with an
// equal value (sameValue: templating turns numbers into strings, and data
// written by other tools may hold either).
func matches(device map[string]any, filters map[string]any) bool {
	data, _ := device["data"].(map[string]any)
	for k, want := range filters {
		got, ok := data[k]
		if !ok || !sameValue(got, want) {
			return false
		}
	}
	return true
}

// sameValue is equality, except that a string and a number or boolean are
// the same when they print the same, whichever side the string is on.
func sameValue(got, want any) bool {
	if shape.Equal(got, want) {
		return true
	}
	if s, ok := want.(string); ok && scalar(got) {
		return fmt.Sprint(got) == s
	}
	if s, ok := got.(string); ok && scalar(want) {
		return fmt.Sprint(want) == s
	}
	return false
}

func scalar(v any) bool {
	switch v.(type) {
	case int64, float64, json.Number, bool:
		return true
	}
	return false
}

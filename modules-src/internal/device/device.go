// Package device manages one device (an instance of a device collection):
// the compare-and-apply logic behind the device module.
package device

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/devicedata"
	"github.com/stepfleet/smallstep/modules-src/internal/deviceid"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// Spec is the module's argument spec, connection options included.
func Spec() *ansible.Spec {
	types := make([]any, len(deviceid.Types))
	for i, t := range deviceid.Types {
		types[i] = t
	}
	s := &ansible.Spec{Options: map[string]*ansible.Option{
		"collection":  {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
		"instance_id": {Type: ansible.TypeStr, Required: true, Aliases: []string{"id"}},
		"data":        {Type: ansible.TypeDict},
		"device_type": {Type: ansible.TypeStr, Choices: types},
		"state":       {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"}},
	}}
	return s.Merge(smallstep.ConnectionOptions())
}

// Run is the module: register, update or remove the device.
func Run(m *ansible.Module) error {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "collection"); err != nil {
		return err
	}
	id := p.Str("instance_id")
	if err := deviceid.Check(p.Str("device_type"), id); err != nil {
		return fmt.Errorf("instance_id: %v", err)
	}
	if err := smallstep.CheckNames(p, "instance_id"); err != nil {
		return err
	}
	if b, err := json.Marshal(p["data"]); err != nil {
		return fmt.Errorf("data cannot be encoded as JSON: %v", err)
	} else if len(b) > devicedata.MaxSize {
		return fmt.Errorf("data is %d bytes as JSON; at most %d are sent, so keep large values out of device metadata", len(b), devicedata.MaxSize)
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	collection := p.Str("collection")
	path := smallstep.Path("collections", collection, "instances", id)

	var current map[string]any
	_, getErr := c.JSON(ctx, http.MethodGet, path, nil, nil, &current)
	if getErr != nil && !smallstep.IsNotFound(getErr) {
		return getErr
	}
	currentData, _ := current["data"].(map[string]any)

	if p.Str("state") == "absent" {
		m.SetDiff(view(current), map[string]any{})
		if current == nil {
			// Nothing to remove is success, unless the 404 came from a
			// wrong api_url.
			_, err := c.Absent(ctx, getErr)
			return err
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

	desired := devicedata.User(currentData)
	if p.Has("data") {
		desired = map[string]any(p.Dict("data"))
	}
	if len(devicedata.User(desired)) != len(desired) {
		m.Warn("data keys starting with %q belong to the server; they are ignored", devicedata.ServerPrefix)
	}
	if current != nil && shape.Equal(devicedata.User(desired), devicedata.User(currentData)) {
		m.SetDiff(view(current), view(current))
		m.Set("device", view(current))
		return nil
	}
	if current == nil {
		var coll map[string]any
		_, err := c.JSON(ctx, http.MethodGet, smallstep.Path("device-collections", collection), nil, nil, &coll)
		if missing, err := c.Absent(ctx, err); missing {
			if !m.CheckMode {
				return fmt.Errorf("device collection %q does not exist; create it first with stepfleet.smallstep.device_collection", collection)
			}
			// In check mode an earlier task of the play may be about to
			// create the collection: report the change it would bring.
			m.Warn(smallstep.PendingCollection, collection)
		} else if err != nil {
			return err
		} else if want := p.Str("device_type"); want != "" && coll["deviceType"] != nil && coll["deviceType"] != want {
			return fmt.Errorf("device collection %q holds %v devices, not %s; use a collection of device_type %s, or fix device_type",
				collection, coll["deviceType"], want, want)
		}
	}
	// Keep what the server added; replace what the user owns.
	body := devicedata.Body(currentData, desired)
	after := map[string]any{"id": id, "data": body}
	if current != nil {
		// Only data changes: the diff must not show the timestamps going.
		after = shape.Drop(current)
		after["data"] = body
	}
	m.SetDiff(view(current), view(after))
	m.SetChanged(true)
	if m.CheckMode {
		m.Set("device", view(after))
		return nil
	}
	var saved map[string]any
	if _, err := c.JSON(ctx, http.MethodPut, path, nil, map[string]any{"data": body}, &saved); err != nil {
		if refused(err) {
			m.SetChanged(false)
		}
		return err
	}
	m.Set("device", view(saved))
	return nil
}

// refused reports whether the server answered a write with an error status,
// so nothing changed; after a transport error the write may have happened.
func refused(err error) bool { return smallstep.StatusOf(err) >= 400 }

func view(obj map[string]any) any {
	if obj == nil {
		return map[string]any{}
	}
	return shape.ToSnake(obj, "data")
}

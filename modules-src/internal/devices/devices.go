// Package devices reconciles many devices of one device collection in one
// task: the compare-and-apply logic behind the devices module. It reads the
// collection once through the paged list, compares every listed device with
// what the server holds, and sends only the writes that differ, several at
// a time.
package devices

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/devicedata"
	"github.com/stepfleet/smallstep/modules-src/internal/deviceid"
	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// Bounds of the parallel option: one write at a time up to as many as a
// gateway should reasonably see from one client.
const (
	DefaultParallel = 8
	MaxParallel     = 64
)

// maxListedFailures bounds the failures spelled out in msg; all of them are
// in the result's failures.
const maxListedFailures = 100

// Spec is the module's argument spec, connection options included.
func Spec() *ansible.Spec {
	types := make([]any, len(deviceid.Types))
	for i, t := range deviceid.Types {
		types[i] = t
	}
	device := &ansible.Spec{Options: map[string]*ansible.Option{
		"instance_id": {Type: ansible.TypeStr, Required: true, Aliases: []string{"id"}},
		"data":        {Type: ansible.TypeDict},
	}}
	s := &ansible.Spec{Options: map[string]*ansible.Option{
		"collection":  {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
		"devices":     {Type: ansible.TypeList, Elements: ansible.TypeDict, Required: true, Options: device},
		"device_type": {Type: ansible.TypeStr, Choices: types},
		"exclusive":   {Type: ansible.TypeBool, Default: false},
		"parallel":    {Type: ansible.TypeInt, Default: int64(DefaultParallel)},
		"state":       {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"}},
	}}
	return s.Merge(smallstep.ConnectionOptions())
}

// wanted is one entry of the devices option, checked.
type wanted struct {
	id   string
	data map[string]any // nil when not given
}

// Outcomes of one device.
const (
	created   = "created"
	updated   = "updated"
	removed   = "removed"
	unchanged = "unchanged"
)

// op is one write to send.
type op struct {
	outcome string // created, updated or removed
	id      string
	body    map[string]any // nil for removal
}

// Run is the module.
func Run(m *ansible.Module) error {
	p := m.Params
	want, err := checkInput(m)
	if err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	collection := p.Str("collection")

	var coll map[string]any
	missing := false
	_, err = c.JSON(ctx, http.MethodGet, smallstep.Path("device-collections", collection), nil, nil, &coll)
	if absent, err := c.Absent(ctx, err); absent {
		switch {
		case p.Str("state") == "absent":
			// No collection, so none of the devices is there to remove.
		case !m.CheckMode:
			return fmt.Errorf("device collection %q does not exist; create it first with stepfleet.smallstep.device_collection", collection)
		default:
			// An earlier task of the play may be about to create it: report
			// the changes that would bring.
			m.Warn(smallstep.PendingCollection, collection)
		}
		missing = true
	} else if err != nil {
		return err
	} else if t := p.Str("device_type"); t != "" && coll["deviceType"] != nil && coll["deviceType"] != t {
		return fmt.Errorf("device collection %q holds %v devices, not %s; use a collection of device_type %s, or fix device_type",
			collection, coll["deviceType"], t, t)
	}

	current := map[string]map[string]any{}
	if !missing {
		err := smallstep.List(ctx, c, smallstep.Path("collections", collection, "items"), func(page json.RawMessage) error {
			var items []map[string]any
			if err := jsonnum.Unmarshal(page, &items); err != nil {
				return err
			}
			for _, it := range items {
				if id, ok := it["id"].(string); ok {
					current[id] = it
				}
			}
			return nil
		})
		// A device collection without a device yet may have no instance
		// collection to list: that is no device, not a failure.
		if err != nil && !smallstep.IsNotFound(err) {
			return err
		}
	}

	ops, ids, before, after := plan(want, current, p.Str("state"), p.Bool("exclusive"))
	m.SetDiff(before, after)
	m.SetChanged(len(ops) > 0)
	if m.CheckMode || len(ops) == 0 {
		report(m, ids, nil)
		return nil
	}

	errs, err := apply(ctx, m, collection, ops, int(p.Int("parallel")))
	if err != nil {
		return err
	}
	done := map[string][]string{unchanged: ids[unchanged]}
	var failures []failure
	changed := false
	for i, o := range ops {
		if errs[i] == nil {
			done[o.outcome] = append(done[o.outcome], o.id)
			changed = true
			continue
		}
		f := newFailure(o, errs[i])
		// After a transport error the write may have happened; an error
		// status means the server refused it.
		if f.Status == 0 {
			changed = true
		}
		failures = append(failures, f)
	}
	m.SetChanged(changed)
	report(m, done, failures)
	if len(failures) > 0 {
		return partialError(failures, done, len(ops)+len(ids[unchanged]))
	}
	return nil
}

// checkInput checks every option before any request: parallel's range, the
// collection's name, each ID's form, duplicates and data sizes.
func checkInput(m *ansible.Module) ([]wanted, error) {
	p := m.Params
	if err := smallstep.CheckCollectionSlugs(p, "collection"); err != nil {
		return nil, err
	}
	if n := p.Int("parallel"); n < 1 || n > MaxParallel {
		return nil, fmt.Errorf("parallel must be between 1 and %d (concurrent writes), got %d", MaxParallel, n)
	}
	if p.Bool("exclusive") && p.Str("state") == "absent" {
		return nil, fmt.Errorf("exclusive removes the devices that are not listed, so it goes with state=present only; with state=absent list the devices to remove")
	}
	typ := p.Str("device_type")
	seen := map[string]int{}
	var out []wanted
	serverKeys := -1
	for i, e := range p.List("devices") {
		d, _ := e.(map[string]any)
		label := fmt.Sprintf("devices[%d].instance_id", i)
		id, _ := d["instance_id"].(string)
		if err := deviceid.Check(typ, id); err != nil {
			return nil, fmt.Errorf("%s: %v", label, err)
		}
		if err := smallstep.CheckNames(ansible.Params{label: id}, label); err != nil {
			return nil, err
		}
		if j, dup := seen[id]; dup {
			return nil, fmt.Errorf("devices[%d] and devices[%d] both have instance_id %q; list each device once", j, i, id)
		}
		seen[id] = i
		w := wanted{id: id}
		if data, ok := d["data"].(map[string]any); ok {
			b, err := json.Marshal(data)
			if err != nil {
				return nil, fmt.Errorf("devices[%d].data cannot be encoded as JSON: %v", i, err)
			}
			if len(b) > devicedata.MaxSize {
				return nil, fmt.Errorf("devices[%d].data is %d bytes as JSON; at most %d are sent, so keep large values out of device metadata", i, len(b), devicedata.MaxSize)
			}
			w.data = data
			if serverKeys < 0 && len(devicedata.User(data)) != len(data) {
				serverKeys = i
			}
		}
		out = append(out, w)
	}
	if serverKeys >= 0 {
		m.Warn("data keys starting with %q belong to the server; they are ignored (first seen in devices[%d])", devicedata.ServerPrefix, serverKeys)
	}
	return out, nil
}

// plan compares the listed devices with the current ones and returns the
// writes to send, the IDs by outcome and the diff of the devices that
// change, keyed by ID.
func plan(want []wanted, current map[string]map[string]any, state string, exclusive bool) ([]op, map[string][]string, map[string]any, map[string]any) {
	var ops []op
	ids := map[string][]string{}
	before, after := map[string]any{}, map[string]any{}
	listed := make(map[string]bool, len(want))
	for _, w := range want {
		listed[w.id] = true
		cur := current[w.id]
		if state == "absent" {
			if cur == nil {
				ids[unchanged] = append(ids[unchanged], w.id)
				continue
			}
			ops = append(ops, op{outcome: removed, id: w.id})
			before[w.id] = view(cur)
			continue
		}
		curData, _ := cur["data"].(map[string]any)
		desired := devicedata.User(curData)
		if w.data != nil {
			desired = devicedata.User(w.data)
		}
		if cur != nil && shape.Equal(desired, devicedata.User(curData)) {
			ids[unchanged] = append(ids[unchanged], w.id)
			continue
		}
		// Keep what the server added; replace what the user owns.
		body := devicedata.Body(curData, desired)
		if cur == nil {
			ops = append(ops, op{outcome: created, id: w.id, body: body})
			after[w.id] = view(map[string]any{"id": w.id, "data": body})
			continue
		}
		ops = append(ops, op{outcome: updated, id: w.id, body: body})
		// Only data changes: the diff must not show the timestamps going.
		next := shape.Drop(cur)
		next["data"] = body
		before[w.id] = view(cur)
		after[w.id] = view(next)
	}
	if exclusive && state == "present" {
		var extra []string
		for id := range current {
			if !listed[id] {
				extra = append(extra, id)
			}
		}
		sort.Strings(extra)
		for _, id := range extra {
			ops = append(ops, op{outcome: removed, id: id})
			before[id] = view(current[id])
		}
	}
	for _, o := range ops {
		ids[o.outcome] = append(ids[o.outcome], o.id)
	}
	return ops, ids, before, after
}

// report sets the counts and the ID lists of each outcome, and the
// failures when there are any.
func report(m *ansible.Module, ids map[string][]string, failures []failure) {
	lists := map[string]any{}
	for _, k := range []string{created, updated, removed, unchanged} {
		m.Set(k, len(ids[k]))
		lists[k] = list(ids[k])
	}
	if failures != nil {
		failed := make([]string, len(failures))
		for i, f := range failures {
			failed[i] = f.ID
		}
		lists["failed"] = failed
		m.Set("failures", failures)
	}
	m.Set("ids", lists)
}

// list is never nil, so an empty outcome is [] and not null.
func list(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// view is a device as the module shows it: snake_case fields, data's own
// keys as they are.
func view(obj map[string]any) any {
	if obj == nil {
		return map[string]any{}
	}
	return shape.ToSnake(obj, "data")
}

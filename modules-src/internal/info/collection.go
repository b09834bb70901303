package info

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/deviceid"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// listParallel bounds the reads of device collections in flight when the
// module lists them. It needs one GET per collection of the team, and one
// at a time would make a team of hundreds wait for hundreds of round trips;
// eight, the devices module's default, keeps the gateway from seeing a
// burst from one task.
const listParallel = 8

// CollectionSpec is device_collection_info's argument spec: one device
// collection by slug, or every one of them when slug is not set.
func CollectionSpec() *ansible.Spec {
	types := make([]any, len(deviceid.Types))
	for i, t := range deviceid.Types {
		types[i] = t
	}
	return (&ansible.Spec{
		Options: map[string]*ansible.Option{
			"slug":        {Type: ansible.TypeStr, Aliases: []string{"name"}},
			"device_type": {Type: ansible.TypeStr, Choices: types},
		},
		// One collection is asked for by its slug; device_type selects from
		// the list.
		MutuallyExclusive: [][]string{{"slug", "device_type"}},
	}).Merge(smallstep.ConnectionOptions())
}

// RunCollection is device_collection_info: read one device collection, or
// list every device collection of the team.
func RunCollection(m *ansible.Module) error {
	if err := smallstep.CheckCollectionSlugs(m.Params, "slug"); err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if !m.Params.Has("slug") {
		return listCollections(ctx, m, c)
	}
	obj, err := get(ctx, c, smallstep.Path("device-collections", m.Params.Str("slug")))
	if err != nil {
		return err
	}
	m.Set("exists", obj != nil)
	m.Set("device_collection", view(obj))
	return nil
}

// listCollections sets device_collections: every device collection of the
// team, of device_type when set, sorted by slug. The API has no list of
// device collections, but every device collection has the collection of
// its devices under the same slug: list the collections, then read the
// device collection of each, keeping those that are one.
func listCollections(ctx context.Context, m *ansible.Module, c *smallstep.Client) error {
	slugs, err := collectionSlugs(ctx, c)
	if err != nil {
		return err
	}
	found, err := readDeviceCollections(ctx, c, m.Params, slugs)
	if err != nil {
		return err
	}
	deviceType := m.Params.Str("device_type")
	views := make([]any, 0, len(found))
	for _, dc := range found {
		if dc != nil && (deviceType == "" || dc["deviceType"] == deviceType) {
			views = append(views, view(dc))
		}
	}
	m.Set("device_collections", views)
	return nil
}

// collectionSlugs returns the slugs of every collection of the team, all
// pages of GET /collections, sorted and each once.
func collectionSlugs(ctx context.Context, c *smallstep.Client) ([]string, error) {
	var slugs []string
	path := smallstep.Path("collections")
	err := smallstep.List(ctx, c, path, func(page json.RawMessage) error {
		var items []struct {
			Slug string `json:"slug"`
		}
		if err := json.Unmarshal(page, &items); err != nil {
			return err
		}
		for _, it := range items {
			// An empty slug would read the list of device collections
			// instead of one.
			if it.Slug == "" {
				return errors.New("a collection has no slug")
			}
			slugs = append(slugs, it.Slug)
		}
		return nil
	})
	if smallstep.IsNotFound(err) {
		// A team without collections gets an empty list, so a 404 is never
		// "nothing there": it is a wrong api_url (Absent says so), or an
		// API without the list, which the 404 itself reports.
		if _, aerr := c.Absent(ctx, err); aerr != nil {
			return nil, aerr
		}
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(slugs)
	return slices.Compact(slugs), nil
}

// readDeviceCollections reads the device collection of each slug, at most
// listParallel at a time, and returns them in the order of slugs, nil for a
// collection that is no device collection. The first failure stops the
// reads not yet sent and is returned. c, which listed the slugs, is the
// first worker's client; the others are made from p.
func readDeviceCollections(ctx context.Context, c *smallstep.Client, p ansible.Params, slugs []string) ([]map[string]any, error) {
	found := make([]map[string]any, len(slugs))
	errs := make([]error, len(slugs))
	var failed atomic.Bool
	err := smallstep.Parallel(p, listParallel, len(slugs), c, func(c *smallstep.Client, i int) {
		if failed.Load() {
			return
		}
		var obj map[string]any
		_, err := c.JSON(ctx, http.MethodGet, smallstep.Path("device-collections", slugs[i]), nil, nil, &obj)
		switch {
		case err == nil:
			found[i] = obj
		case smallstep.IsNotFound(err):
			// A plain collection, or one removed since the list was
			// read. No need to ask Absent whether api_url is wrong:
			// it has just answered GET /collections.
		default:
			errs[i] = err
			failed.Store(true)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

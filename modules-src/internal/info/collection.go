package info

import (
	"context"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// CollectionSpec is device_collection_info's argument spec. slug is
// required: the API (2023-03-01 and 2023-11-01) has no list of device
// collections.
func CollectionSpec() *ansible.Spec {
	return (&ansible.Spec{Options: map[string]*ansible.Option{
		"slug": {Type: ansible.TypeStr, Required: true, Aliases: []string{"name"}},
	}}).Merge(smallstep.ConnectionOptions())
}

// RunCollection is device_collection_info: read one device collection.
func RunCollection(m *ansible.Module) error {
	if err := smallstep.CheckNames(m.Params, "slug"); err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	obj, err := get(context.Background(), c, smallstep.Path("device-collections", m.Params.Str("slug")))
	if err != nil {
		return err
	}
	m.Set("exists", obj != nil)
	m.Set("device_collection", view(obj))
	return nil
}

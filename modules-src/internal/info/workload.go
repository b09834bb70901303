package info

import (
	"context"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// WorkloadSpec is workload_info's argument spec. slug is required: the API
// has no list of a collection's workloads.
func WorkloadSpec() *ansible.Spec {
	return (&ansible.Spec{Options: map[string]*ansible.Option{
		"collection": {Type: ansible.TypeStr, Required: true, Aliases: []string{"device_collection"}},
		"slug":       {Type: ansible.TypeStr, Required: true, Aliases: []string{"name"}},
	}}).Merge(smallstep.ConnectionOptions())
}

// RunWorkload is workload_info: read one workload of a device collection.
func RunWorkload(m *ansible.Module) error {
	if err := smallstep.CheckCollectionSlugs(m.Params, "collection"); err != nil {
		return err
	}
	if err := smallstep.CheckNames(m.Params, "slug"); err != nil {
		return err
	}
	c, err := smallstep.Connect(m)
	if err != nil {
		return err
	}
	path := smallstep.Path("device-collections", m.Params.Str("collection"), "workloads", m.Params.Str("slug"))
	obj, err := get(context.Background(), c, path)
	if err != nil {
		return err
	}
	m.Set("exists", obj != nil)
	m.Set("workload", view(obj))
	return nil
}

// Package info reads device collections, workloads and devices for the
// read-only modules device_collection_info, workload_info and device_info.
// They only send GET requests, so they never report a change and run the
// same in check mode; something missing is an answer (exists: false, or an
// empty list), not a failure.
package info

import (
	"context"
	"net/http"

	"github.com/stepfleet/smallstep/modules-src/internal/shape"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// get reads one object; nil when it does not exist.
func get(ctx context.Context, c *smallstep.Client, path string) (map[string]any, error) {
	var obj map[string]any
	_, err := c.JSON(ctx, http.MethodGet, path, nil, nil, &obj)
	if absent, err := c.Absent(ctx, err); absent || err != nil {
		return nil, err
	}
	return obj, nil
}

// view is an API object with snake_case keys, as the resource modules
// return it; keys below the opaque ones (a device's data) are kept as they
// are. A missing object is an empty dict, so that a template reading one of
// its keys with default() works either way.
func view(obj map[string]any, opaque ...string) any {
	if obj == nil {
		return map[string]any{}
	}
	return shape.ToSnake(obj, opaque...)
}

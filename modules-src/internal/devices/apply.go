package devices

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/smallstep"
)

// apply sends the writes, at most parallel at a time, and returns each
// one's error (nil when it succeeded), in the order of ops. A failed write
// does not stop the others: the rest of the fleet is still brought in line
// and a rerun retries only what failed.
func apply(ctx context.Context, m *ansible.Module, collection string, ops []op, parallel int) ([]error, error) {
	errs := make([]error, len(ops))
	err := smallstep.Parallel(m.Params, parallel, len(ops), nil, func(c *smallstep.Client, i int) {
		o := ops[i]
		path := smallstep.Path("collections", collection, "instances", o.id)
		if o.outcome == removed {
			_, errs[i] = c.Do(ctx, http.MethodDelete, path, nil, nil)
			// Gone already (removed by someone else since the list
			// was read) is what was asked for.
			if smallstep.IsNotFound(errs[i]) {
				errs[i] = nil
			}
			return
		}
		_, errs[i] = c.Do(ctx, http.MethodPut, path, nil, map[string]any{"data": o.body})
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}

// failure is one device whose write failed, as the result's failures list
// holds it.
type failure struct {
	ID        string `json:"instance_id"`
	Operation string `json:"operation"` // create, update or remove
	Method    string `json:"method"`
	Status    int    `json:"status"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

func newFailure(o op, err error) failure {
	f := failure{ID: o.id, Operation: strings.TrimSuffix(o.outcome, "d"), Method: http.MethodPut, Message: err.Error()}
	if o.outcome == removed {
		f.Operation, f.Method = "remove", http.MethodDelete
	}
	var ae *smallstep.APIError
	if errors.As(err, &ae) {
		f.Status, f.Message, f.RequestID = ae.Status, ae.Message, ae.RequestID
		if ae.Tries > 1 {
			f.Message += fmt.Sprintf(" (after %d tries)", ae.Tries)
		}
	}
	return f
}

func (f failure) String() string {
	status := "no answer"
	if f.Status != 0 {
		status = fmt.Sprintf("HTTP %d %s", f.Status, http.StatusText(f.Status))
	}
	id := ""
	if f.RequestID != "" {
		id = " (request ID " + f.RequestID + ")"
	}
	return fmt.Sprintf("%s: %s %s: %s: %s%s", f.ID, f.Operation, f.Method, status, f.Message, id)
}

// partialError is the task's failure when some writes failed: which
// devices, why, and what was done with the others.
func partialError(failures []failure, done map[string][]string, total int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d devices failed; the others were done (created %d, updated %d, removed %d, unchanged %d), and a rerun retries only the failed ones. Failed: ",
		len(failures), total, len(done[created]), len(done[updated]), len(done[removed]), len(done[unchanged]))
	for i, f := range failures {
		if i == maxListedFailures {
			fmt.Fprintf(&b, "; and %d more, listed in failures", len(failures)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return errors.New(b.String())
}

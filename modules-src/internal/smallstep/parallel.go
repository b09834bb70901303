package smallstep

import (
	"sync"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// Parallel calls do(c, i) for each i from 0 to n-1, at most workers at a
// time. Each worker has a client of its own: a client counts its requests
// without locks, and its own connection stays open for its next request.
// first, when not nil, is the first worker's client (one the caller has
// already connected); the others are made from p.
func Parallel(p ansible.Params, workers, n int, first *Client, do func(c *Client, i int)) error {
	workers = min(workers, n)
	clients := make([]*Client, 0, workers)
	if first != nil && workers > 0 {
		clients = append(clients, first)
	}
	for len(clients) < workers {
		c, err := New(p)
		if err != nil {
			return err
		}
		clients = append(clients, c)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				do(c, i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return nil
}

package smallstep

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func getErr(t *testing.T, c *Client, path string) error {
	t.Helper()
	_, err := c.Do(context.Background(), http.MethodGet, path, nil, nil)
	return err
}

func TestAbsentChecksTheBaseURLOnce(t *testing.T) {
	f := newFake(t)
	c, err := New(params(f.URL()))
	require.NoError(t, err)

	for _, p := range []string{"/device-collections/a", "/device-collections/b"} {
		absent, err := c.Absent(context.Background(), getErr(t, c, p))
		require.NoError(t, err)
		require.True(t, absent)
	}
	require.Equal(t, []string{"GET /device-collections/a", "GET /authorities", "GET /device-collections/b"}, f.Calls(),
		"one look at /authorities per client, after the first 404")
}

func TestAbsentPassesOtherResultsThrough(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/a", map[string]any{"slug": "a"})
	f.On(http.MethodGet, "/device-collections/locked", reply{Status: http.StatusForbidden, Body: `{"message":"no"}`})
	c, err := New(params(f.URL()))
	require.NoError(t, err)

	absent, err := c.Absent(context.Background(), getErr(t, c, "/device-collections/a"))
	require.NoError(t, err)
	require.False(t, absent)

	forbidden := getErr(t, c, "/device-collections/locked")
	absent, err = c.Absent(context.Background(), forbidden)
	require.Same(t, forbidden, err)
	require.False(t, absent)

	other := errors.New("cannot encode")
	absent, err = c.Absent(context.Background(), other)
	require.Same(t, other, err)
	require.False(t, absent)
	require.NotContains(t, f.Calls(), "GET /authorities")
}

func TestAbsentNamesAWrongBaseURL(t *testing.T) {
	f := newFake(t)
	// What a base URL outside the API sees: 404 everywhere.
	f.On(http.MethodGet, "/authorities", reply{Status: http.StatusNotFound, Body: `{"message":"no such endpoint"}`})
	c, err := New(params(f.URL()))
	require.NoError(t, err)

	absent, err := c.Absent(context.Background(), getErr(t, c, "/device-collections/a"))
	require.False(t, absent)
	require.ErrorContains(t, err, "GET /device-collections/a failed: HTTP 404 Not Found: not found; GET /authorities answers 404 too, so api_url "+
		f.URL()+" is not the Smallstep API's base URL (it usually ends in /api)")
	require.False(t, IsNotFound(err), "a wrong base URL must not pass for a missing object further up")
	require.Equal(t, http.StatusNotFound, StatusOf(err))
}

func TestAbsentReportsAFailedCheck(t *testing.T) {
	f := newFake(t)
	f.On(http.MethodGet, "/authorities", reply{Status: http.StatusUnauthorized, Body: `{"message":"invalid token"}`})
	c, err := New(params(f.URL()))
	require.NoError(t, err)

	absent, err := c.Absent(context.Background(), getErr(t, c, "/device-collections/a"))
	require.False(t, absent)
	require.ErrorContains(t, err, "GET /authorities failed: HTTP 401 Unauthorized: invalid token")
}

package oci_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/oci"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClient_PlainHTTP: HTTPS, except for loopback registries or with
// Options.PlainHTTP.
func TestClient_PlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		ref    string
		plain  bool
		scheme string
	}{
		{"oci://registry.example/x:1.0.0", false, "https"},
		{"oci://registry.example/x:1.0.0", true, "http"},
		{"oci://10.1.2.3:5000/x:1.0.0", false, "https"},
		{"oci://127.0.0.1:5000/x:1.0.0", false, "http"},
		{"oci://127.8.9.10/x:1.0.0", false, "http"},
		{"oci://localhost:5000/x:1.0.0", false, "http"},
		{"oci://[::1]:5000/x:1.0.0", false, "http"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			var scheme string
			stop := errors.New("stop")
			c := oci.NewClient(oci.Options{Cache: t.TempDir(), PlainHTTP: tc.plain, HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				scheme = r.URL.Scheme
				return nil, stop
			})}})
			_, err := c.Pull(bg, mustRef(t, tc.ref))
			require.ErrorIs(t, err, stop)
			require.ErrorIs(t, err, oci.ErrRegistry)
			require.Equal(t, tc.scheme, scheme)
		})
	}
}

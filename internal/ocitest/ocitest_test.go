package ocitest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/internal/ocitest"
)

func TestRequire(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ocitest.Options
		want int
	}{
		{"anonymous", ocitest.Options{}, http.StatusOK},
		{"htpasswd", ocitest.Options{Users: map[string]string{"alice": "secret"}}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ocitest.Require(t, tc.opts)
			resp, err := http.Get("http://" + r.Host + "/v2/")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.want, resp.StatusCode, r.Log())
			if len(tc.opts.Users) > 0 {
				req, _ := http.NewRequest("GET", "http://"+r.Host+"/v2/", nil)
				req.SetBasicAuth("alice", "secret")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			require.NoError(t, r.Close())
			_, err = http.Get("http://" + r.Host + "/v2/")
			require.Error(t, err, "the registry still answers after Close")
		})
	}
}

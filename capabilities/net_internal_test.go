package capabilities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// Test_guardControl checks the dialer's last check, which the name and
// address checks before it make unreachable in practice.
func Test_guardControl(t *testing.T) {
	p, err := manifest.ParseNetPattern("127.0.0.0/8:8080")
	require.NoError(t, err)
	var got []string
	g := &guard{s: &Set{Net: []manifest.NetPattern{p}}, report: func(resource, rule string, allowed bool) {
		assert.False(t, allowed)
		got = append(got, resource+": "+rule)
	}}
	control := g.control("http://api.test/")
	assert.NoError(t, control("tcp4", "127.0.0.1:8080", nil))
	assert.NoError(t, control("tcp4", "93.184.216.34:80", nil))
	var d *NetDeniedError
	require.ErrorAs(t, control("tcp4", "127.0.0.1:80", nil), &d)
	assert.Equal(t, "127.0.0.1 is a loopback address not covered by an IP or CIDR grant", d.Rule)
	require.ErrorAs(t, control("tcp6", "[::ffff:169.254.169.254]:80", nil), &d)
	assert.Equal(t, "169.254.169.254 is a link-local address not covered by an IP or CIDR grant", d.Rule)
	require.ErrorAs(t, control("tcp", "api.test:80", nil), &d)
	assert.Equal(t, `unexpected dial address "api.test:80"`, d.Rule)
	assert.Equal(t, []string{
		"http://api.test/: 127.0.0.1 is a loopback address not covered by an IP or CIDR grant",
		"http://api.test/: 169.254.169.254 is a link-local address not covered by an IP or CIDR grant",
		`http://api.test/: unexpected dial address "api.test:80"`,
	}, got)
}

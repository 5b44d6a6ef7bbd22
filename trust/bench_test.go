package trust_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/trust"
)

// BenchmarkVerify verifies the hello-c package signed by one trusted key,
// embedded, under a strict policy: what a load pays once the package is
// open.
func BenchmarkVerify(b *testing.B) {
	k := newKey(b)
	p := k.embed(b, hello(b))
	var none *trust.Policy
	pol, err := none.WithKey("alice", k.pub, []string{"file:///srv/plugins/*"}, trust.Strict)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trust.Verify(p, "file:///srv/plugins/hello-c-0.1.0.vitplug", nil, pol, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign signs the hello-c package.
func BenchmarkSign(b *testing.B) {
	k := newKey(b)
	p := hello(b)
	for b.Loop() {
		if _, err := trust.Sign(p, k.priv, now); err != nil {
			b.Fatal(err)
		}
	}
}

// Package wit holds the WIT world of the plugin ABI v1 (vitte-plugin.wit).
// Its test checks that the world and the abi package agree.
package wit_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/abi"
)

// TestWorldMatchesABI checks that every host function of the abi package is
// declared in the WIT world under its interface, and the reverse.
func TestWorldMatchesABI(t *testing.T) {
	b, err := os.ReadFile("vitte-plugin.wit")
	require.NoError(t, err)
	src := string(b)
	require.Contains(t, src, "package vitte:plugin@1.0.0;")
	iface := regexp.MustCompile(`(?s)interface (\w+) \{(.*?)\n\}`)
	fn := regexp.MustCompile(`(?m)^\s+([a-z-]+): func`)
	declared := map[string]bool{}
	for _, m := range iface.FindAllStringSubmatch(src, -1) {
		for _, f := range fn.FindAllStringSubmatch(m[2], -1) {
			declared["vitte:plugin/"+m[1]+"@1.0.0."+f[1]] = true
		}
	}
	want := map[string]bool{}
	for _, h := range abi.HostImports {
		want[h.Module+"."+h.Name] = true
	}
	assert.Equal(t, want, declared)
	assert.Contains(t, src, "export on-load: func() -> result<_, string>;")
	assert.Contains(t, src, "export on-unload: func();")
}

package capabilities_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vitte-lang/vitte-plugin/capabilities"
)

func TestMatchHostCall(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"compiler.ast", "compiler.ast", true},
		{"compiler.ast", "compiler.asts", false},
		{"compiler.ast", "compiler", false},
		{"studio.*", "studio.open", true},
		{"studio.*", "studio.ui.open", true},
		{"studio.*", "studio", false},
		{"studio.*", "studio.", false},
		{"studio.*", "studio..x", false},
		{"studio.*", "studiox.open", false},
		{"studio.*", "other.open", false},
		{"studio*", "studiox", false},
		{"*", "anything.at.all", true},
		{"", "x", false},
		{"x", "", false},
		{"test.*", "test.echo", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, capabilities.MatchHostCall(tt.pattern, tt.name))
		})
	}
}

func FuzzMatchHostCall(f *testing.F) {
	f.Add("studio.*", "studio.open")
	f.Add("a.b", "a.b")
	f.Add("*", "x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := capabilities.MatchHostCall(pattern, name)
		if !strings.Contains(pattern, "*") && got != (pattern == name && name != "") {
			t.Fatalf("exact pattern %q vs %q: got %v", pattern, name, got)
		}
		if got && strings.HasSuffix(pattern, ".*") && !strings.HasPrefix(name, strings.TrimSuffix(pattern, "*")) {
			t.Fatalf("%q matched %q outside its prefix", pattern, name)
		}
	})
}

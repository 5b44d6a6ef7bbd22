package manifest_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

func validManifest() *manifest.Manifest {
	return &manifest.Manifest{
		Plugin: manifest.Plugin{Name: "hello", Version: "0.1.0", Kind: manifest.KindGo, Module: "hello.wasm"},
		Limits: manifest.DefaultLimits(),
	}
}

func TestManifest_Validate(t *testing.T) {
	tests := []struct {
		name     string
		with     func(m *manifest.Manifest)
		expected string
	}{
		{name: "minimal", with: func(*manifest.Manifest) {}},
		{
			name: "full",
			with: func(m *manifest.Manifest) {
				m.Plugin.ABI = "1"
				m.Plugin.License = "MIT OR Apache-2.0"
				m.Capabilities.FS = []manifest.FSRequest{{Path: "/data", Mode: manifest.ReadOnly}}
				m.Capabilities.Net = []string{"*.example.org:443"}
				m.Config = map[string]string{"a": "b"}
				m.Dependencies = map[string]manifest.Dependency{"base": {Constraint: "^1.0.0"}}
				m.Exports = map[string]manifest.Export{"greet": {}}
			},
		},
		{
			name: "zero",
			with: func(m *manifest.Manifest) { *m = manifest.Manifest{} },
			expected: "plugin.name: missing required key\n" +
				"plugin.version: missing required key\n" +
				"plugin.kind: missing required key\n" +
				"plugin.module: missing required key\n" +
				"limits.memory: 0B is less than 64KiB (one wasm page)\n" +
				"limits.timeout: must be positive, not 0s\n" +
				"limits.output: must be at least 1B",
		},
		{
			name: "bad values",
			with: func(m *manifest.Manifest) {
				m.Plugin.Kind = manifest.KindPython
				m.Plugin.ABI = "2"
				m.Plugin.Authors = []string{"a", "a"}
				m.Capabilities.FS = []manifest.FSRequest{{Path: "/a", Mode: "ro"}, {Path: "/a/b"}}
				m.Capabilities.Env = []string{"A B"}
				m.Dependencies = map[string]manifest.Dependency{"hello": {Constraint: "^1"}, "x": {Constraint: "nope"}}
				m.Exports = map[string]manifest.Export{"memory": {}, "a.b": {Description: "\x00"}}
			},
			expected: `plugin.module: invalid path "hello.wasm": the entry script of a python plugin must end in ".py"
plugin.authors[1]: duplicate entry: already listed as plugin.authors[0]
plugin.abi: unsupported ABI "2": only ABI major version 1 is supported
capabilities.fs[1].mode: missing required key
capabilities.fs[1].path: "/a/b" is inside "/a" requested by capabilities.fs[0]: nested requests make the mounts ambiguous, keep only one
capabilities.env[0]: invalid environment variable name "A B": want letters, digits and '_', not starting with a digit
dependencies.hello: a plugin cannot depend on itself
dependencies.x: invalid version constraint "nope": want a semver constraint like "^1.2.0" or ">=1.0.0, <2.0.0"
exports."a.b".description: must not contain control character U+0000
exports.memory: "memory" is reserved for the module's internals, not a handler`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validManifest()
			tc.with(m)
			err := m.Validate()
			if tc.expected == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.expected)
			var merr *manifest.Error
			require.True(t, errors.As(err, &merr))
			for _, p := range merr.Problems {
				require.Zero(t, p.Line)
				require.Empty(t, p.File)
			}
		})
	}
}

package manifest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// header is a valid [plugin] table of 5 lines: what tests add starts on
// line 6.
const header = `[plugin]
name = "hello"
version = "0.1.0"
kind = "vitte"
module = "hello.wasm"
`

// withPlugin returns header with each key set to its TOML value, given as
// pairs: on the line of the key if it is there, else from line 6 on.
func withPlugin(kv ...string) string {
	doc := header
	for i := 0; i+1 < len(kv); i += 2 {
		key, value := kv[i], kv[i+1]
		lines := strings.SplitAfter(doc, "\n")
		found := false
		for j, l := range lines {
			if strings.HasPrefix(l, key+" = ") {
				lines[j] = key + " = " + value + "\n"
				found = true
			}
		}
		doc = strings.Join(lines, "")
		if !found {
			doc += key + " = " + value + "\n"
		}
	}
	return doc
}

// parseErr returns the text of the error of Parse, or "" if it succeeds.
func parseErr(t *testing.T, doc string) string {
	t.Helper()
	m, err := manifest.Parse(manifest.FileName, []byte(doc))
	if err != nil {
		require.Nil(t, m)
		var merr *manifest.Error
		require.True(t, errors.As(err, &merr), "error is not a *manifest.Error")
		require.NotEmpty(t, merr.Problems)
		return err.Error()
	}
	require.NoError(t, m.Validate(), "a parsed manifest must validate")
	return ""
}

type parseTest struct {
	name     string
	with     string
	expected string // "" when valid
}

func runParseTests(t *testing.T, tests []parseTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.expected, parseErr(t, tc.with))
		})
	}
}

func TestParse(t *testing.T) {
	doc := `[plugin]
name = "hello"
version = "0.1.0"
kind = "vitte"
module = "hello.wasm"
description = "Says hello"
authors = ["Ada <ada@example.org>"]
license = "MIT"
homepage = "https://example.org"

[capabilities]
fs = [ { path = "/data", mode = "ro" }, { path = "/cache", mode = "rw" } ]
net = [ "api.example.com", "*.example.org:8443", "10.0.0.0/8:80" ]
host = [ "compiler.ast", "studio.*" ]
env = [ "LANG", "TZ" ]

[limits]
memory = "128MiB"
timeout = "5s"

[config]
greeting = "Bonjour"

[dependencies]
base-utils = "^1.2.0"

[exports.greet]
description = "Returns a greeting"
`
	m, err := manifest.Parse("hello/plugin.toml", []byte(doc))
	require.NoError(t, err)
	c, err := semver.NewConstraint("^1.2.0")
	require.NoError(t, err)
	require.Equal(t, &manifest.Manifest{
		Plugin: manifest.Plugin{
			Name:        "hello",
			Version:     "0.1.0",
			Kind:        manifest.KindVitte,
			Module:      "hello.wasm",
			Description: "Says hello",
			Authors:     []string{"Ada <ada@example.org>"},
			License:     "MIT",
			Homepage:    "https://example.org",
			ABI:         "1",
		},
		Capabilities: manifest.Capabilities{
			FS:   []manifest.FSRequest{{Path: "/data", Mode: manifest.ReadOnly}, {Path: "/cache", Mode: manifest.ReadWrite}},
			Net:  []string{"api.example.com", "*.example.org:8443", "10.0.0.0/8:80"},
			Host: []string{"compiler.ast", "studio.*"},
			Env:  []string{"LANG", "TZ"},
		},
		Limits:       manifest.Limits{Memory: 128 << 20, Timeout: 5 * time.Second, Output: manifest.DefaultOutput},
		Config:       map[string]string{"greeting": "Bonjour"},
		Dependencies: map[string]manifest.Dependency{"base-utils": {Constraint: "^1.2.0", Constraints: c}},
		Exports:      map[string]manifest.Export{"greet": {Description: "Returns a greeting"}},
	}, m)
}

func TestParse_defaults(t *testing.T) {
	m, err := manifest.Parse("", []byte(header))
	require.NoError(t, err)
	require.Equal(t, &manifest.Manifest{
		Plugin:       manifest.Plugin{Name: "hello", Version: "0.1.0", Kind: manifest.KindVitte, Module: "hello.wasm", ABI: manifest.ABI},
		Limits:       manifest.DefaultLimits(),
		Config:       map[string]string{},
		Dependencies: map[string]manifest.Dependency{},
		Exports:      map[string]manifest.Export{},
	}, m)
	require.Equal(t, manifest.Limits{Memory: 64 << 20, Timeout: 10 * time.Second, Output: 16 << 20}, m.Limits)
}

func TestParse_filename(t *testing.T) {
	_, err := manifest.Parse("", []byte("[plugin]\nname = 1\n"))
	require.ErrorContains(t, err, "plugin.toml:2:8: plugin.name: ")
	_, err = manifest.Parse("plugins/hello/plugin.toml", []byte("[plugin]\nname = 1\n"))
	require.ErrorContains(t, err, "plugins/hello/plugin.toml:2:8: plugin.name: ")
}

func TestParse_name(t *testing.T) {
	const want = `want a lower-case letter, then up to 63 lower-case letters, digits or '-'`
	runParseTests(t, []parseTest{
		{name: "one letter", with: withPlugin("name", `"a"`)},
		{name: "dashes and digits", with: withPlugin("name", `"a-1-b2"`)},
		{name: "64 bytes", with: withPlugin("name", `"`+strings.Repeat("a", 64)+`"`)},
		{
			name:     "empty",
			with:     withPlugin("name", `""`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "": ` + want,
		},
		{
			name:     "upper-case",
			with:     withPlugin("name", `"Hello"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "Hello": ` + want,
		},
		{
			name:     "leading dash",
			with:     withPlugin("name", `"-a"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "-a": ` + want,
		},
		{
			name:     "leading digit",
			with:     withPlugin("name", `"1a"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "1a": ` + want,
		},
		{
			name:     "underscore",
			with:     withPlugin("name", `"a_b"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "a_b": ` + want,
		},
		{
			name:     "non-ASCII",
			with:     withPlugin("name", `"héllo"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "héllo": ` + want,
		},
		{
			name:     "65 bytes",
			with:     withPlugin("name", `"`+strings.Repeat("a", 65)+`"`),
			expected: `plugin.toml:2:8: plugin.name: invalid plugin name "` + strings.Repeat("a", 64) + `"...: ` + want,
		},
		{
			name:     "not a string",
			with:     withPlugin("name", `true`),
			expected: `plugin.toml:2:8: plugin.name: expected a string, found boolean`,
		},
	})
}

func TestParse_version(t *testing.T) {
	const want = `want a semantic version 2.0.0 like "1.2.3" or "1.0.0-rc.1"`
	runParseTests(t, []parseTest{
		{name: "release", with: withPlugin("version", `"10.20.30"`)},
		{name: "pre-release and build", with: withPlugin("version", `"1.0.0-alpha.1+build.5"`)},
		{name: "two parts", with: withPlugin("version", `"1.0"`), expected: `plugin.toml:3:11: plugin.version: invalid version "1.0": ` + want},
		{name: "v prefix", with: withPlugin("version", `"v1.0.0"`), expected: `plugin.toml:3:11: plugin.version: invalid version "v1.0.0": ` + want},
		{name: "leading zero", with: withPlugin("version", `"01.0.0"`), expected: `plugin.toml:3:11: plugin.version: invalid version "01.0.0": ` + want},
		{name: "empty pre-release", with: withPlugin("version", `"1.0.0-"`), expected: `plugin.toml:3:11: plugin.version: invalid version "1.0.0-": ` + want},
		{name: "empty", with: withPlugin("version", `""`), expected: `plugin.toml:3:11: plugin.version: invalid version "": ` + want},
		{name: "float", with: withPlugin("version", `1.0`), expected: `plugin.toml:3:11: plugin.version: expected a string, found float: quote it, like "1.0"`},
	})
}

func TestParse_kind(t *testing.T) {
	for _, k := range []manifest.Kind{manifest.KindWasm, manifest.KindC, manifest.KindGo, manifest.KindRust, manifest.KindVitte} {
		m, err := manifest.Parse("", []byte(withPlugin("kind", `"`+string(k)+`"`)))
		require.NoError(t, err)
		require.Equal(t, k, m.Plugin.Kind)
	}
	runParseTests(t, []parseTest{
		{name: "python", with: withPlugin("kind", `"python"`, "module", `"main.py"`)},
		{
			name:     "upper-case",
			with:     withPlugin("kind", `"WASM"`),
			expected: `plugin.toml:4:8: plugin.kind: unknown kind "WASM": want wasm, c, go, rust, vitte or python`,
		},
		{
			name:     "empty",
			with:     withPlugin("kind", `""`),
			expected: `plugin.toml:4:8: plugin.kind: unknown kind "": want wasm, c, go, rust, vitte or python`,
		},
	})
}

func TestParse_module(t *testing.T) {
	runParseTests(t, []parseTest{
		{name: "nested", with: withPlugin("module", `"target/wasm32-wasip1/release/hello.wasm"`)},
		{name: "unicode", with: withPlugin("module", `"modulé.wasm"`)},
		{
			name:     "empty",
			with:     withPlugin("module", `""`),
			expected: `plugin.toml:5:10: plugin.module: must not be empty`,
		},
		{
			name:     "absolute",
			with:     withPlugin("module", `"/hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "/hello.wasm": must be relative to the plugin folder, without a leading '/'`,
		},
		{
			name:     "dot-dot",
			with:     withPlugin("module", `"a/../../hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "a/../../hello.wasm": ".." would leave the plugin folder`,
		},
		{
			name:     "dot-dot inside the folder",
			with:     withPlugin("module", `"a/../hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "a/../hello.wasm": ".." would leave the plugin folder`,
		},
		{
			name:     "dot",
			with:     withPlugin("module", `"./hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "./hello.wasm": must be clean, without "." or empty segments`,
		},
		{
			name:     "empty segment",
			with:     withPlugin("module", `"a//hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "a//hello.wasm": must be clean, without "." or empty segments`,
		},
		{
			name:     "trailing slash",
			with:     withPlugin("module", `"hello.wasm/"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "hello.wasm/": must be clean, without "." or empty segments`,
		},
		{
			name:     "backslash",
			with:     withPlugin("module", `'a\hello.wasm'`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "a\\hello.wasm": use '/' as the separator, not '\'`,
		},
		{
			name:     "drive letter",
			with:     withPlugin("module", `"c:/hello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "c:/hello.wasm": must be relative to the plugin folder, not a drive path`,
		},
		{
			name:     "NUL",
			with:     withPlugin("module", `"hello\u0000.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: must not contain control character U+0000`,
		},
		{
			name:     "escape character",
			with:     withPlugin("module", `"\e[31mhello.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: must not contain control character U+001B`,
		},
		{
			name:     "bidirectional override",
			with:     withPlugin("module", `"hello\u202e.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: must not contain bidirectional control character U+202E`,
		},
		{
			name:     "too long",
			with:     withPlugin("module", `"`+strings.Repeat("a/", 512)+`x.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: too long (1030 bytes, at most 1024)`,
		},
		{
			name:     "wasm extension",
			with:     withPlugin("module", `"hello.py"`),
			expected: `plugin.toml:5:10: plugin.module: invalid path "hello.py": the module of a vitte plugin must end in ".wasm"`,
		},
		{
			name: "python extension, kind after module",
			with: `[plugin]
name = "hello"
version = "0.1.0"
module = "hello.wasm"
kind = "python"
`,
			expected: `plugin.toml:4:10: plugin.module: invalid path "hello.wasm": the entry script of a python plugin must end in ".py"`,
		},
		{
			name:     "no extension check for an unknown kind",
			with:     withPlugin("kind", `"java"`, "module", `"Main.class"`),
			expected: `plugin.toml:4:8: plugin.kind: unknown kind "java": want wasm, c, go, rust, vitte or python`,
		},
	})
}

func TestParse_optionalPluginKeys(t *testing.T) {
	runParseTests(t, []parseTest{
		{name: "multi-line description", with: withPlugin("description", `"""
Says hello,
in two lines."""`)},
		{name: "authors", with: withPlugin("authors", `["Ada <ada@example.org>", "Grace"]`)},
		{name: "abi 1", with: withPlugin("abi", `"1"`)},
		{name: "http homepage", with: withPlugin("homepage", `"http://example.org/hello?x=1#top"`)},
		{
			name:     "description control character",
			with:     withPlugin("description", `"bell\u0007"`),
			expected: `plugin.toml:6:15: plugin.description: must not contain control character U+0007`,
		},
		{
			name:     "description too long",
			with:     withPlugin("description", `"`+strings.Repeat("x", 4097)+`"`),
			expected: `plugin.toml:6:15: plugin.description: too long (4097 bytes, at most 4096)`,
		},
		{
			name:     "empty author",
			with:     withPlugin("authors", `["Ada", " "]`),
			expected: `plugin.toml:6:19: plugin.authors[1]: must not be empty`,
		},
		{
			name:     "author with a newline",
			with:     withPlugin("authors", `["Ada\nEvil"]`),
			expected: `plugin.toml:6:12: plugin.authors[0]: must not contain control character U+000A`,
		},
		{
			name:     "authors not strings",
			with:     withPlugin("authors", `[{name = "Ada"}]`),
			expected: `plugin.toml:6:12: plugin.authors[0]: expected a string, found table`,
		},
		{
			name:     "abi 2",
			with:     withPlugin("abi", `"2"`),
			expected: `plugin.toml:6:7: plugin.abi: unsupported ABI "2": only ABI major version 1 is supported`,
		},
		{
			name:     "abi 1.0",
			with:     withPlugin("abi", `"1.0"`),
			expected: `plugin.toml:6:7: plugin.abi: unsupported ABI "1.0": only ABI major version 1 is supported`,
		},
		{
			name:     "abi integer",
			with:     withPlugin("abi", `1`),
			expected: `plugin.toml:6:7: plugin.abi: expected a string, found integer: quote it, like "1"`,
		},
		{
			name:     "homepage relative",
			with:     withPlugin("homepage", `"example.org"`),
			expected: `plugin.toml:6:12: plugin.homepage: invalid URL "example.org": want an absolute http or https URL`,
		},
		{
			name:     "homepage javascript",
			with:     withPlugin("homepage", `"javascript:alert(1)"`),
			expected: `plugin.toml:6:12: plugin.homepage: invalid URL "javascript:alert(1)": want an absolute http or https URL`,
		},
		{
			name:     "homepage with password",
			with:     withPlugin("homepage", `"https://user:secret@example.org"`),
			expected: `plugin.toml:6:12: plugin.homepage: invalid URL "https://user:secret@example.org": must not contain a user name or password`,
		},
		{
			name:     "homepage with a space",
			with:     withPlugin("homepage", `"https://example.org/a b"`),
			expected: `plugin.toml:6:12: plugin.homepage: invalid URL "https://example.org/a b": want an absolute http or https URL`,
		},
	})
}

func TestParse_license(t *testing.T) {
	for _, l := range []string{
		"MIT",
		"Apache-2.0",
		"GPL-2.0+",
		"MIT OR Apache-2.0",
		"(MIT OR Apache-2.0) AND BSD-3-Clause",
		"GPL-2.0-or-later WITH Classpath-exception-2.0",
		"((MIT))",
		"LicenseRef-acme-1.0",
		"DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
	} {
		t.Run(l, func(t *testing.T) {
			require.Empty(t, parseErr(t, withPlugin("license", `"`+l+`"`)))
		})
	}
	tests := []struct{ with, expected string }{
		{"", `expected a license identifier, found end of expression`},
		{"MIT OR", `expected a license identifier, found end of expression`},
		{"OR MIT", `expected a license identifier, found "OR"`},
		{"MIT Apache-2.0", `unexpected "Apache-2.0": want AND, OR or WITH`},
		{"MIT or Apache-2.0", `operator "or" must be upper-case`},
		{"and", `operator "and" must be upper-case`},
		{"(MIT", `expected ')', found end of expression`},
		{"MIT)", `unexpected ")": want AND, OR or WITH`},
		{"()", `expected a license identifier, found ")"`},
		{"MIT +", `"+" must follow a license identifier, without a space`},
		{"GPL-2.0++", `invalid license identifier "GPL-2.0+"`},
		{"MIT WITH", `expected an exception identifier, found end of expression`},
		{"MIT WITH Classpath-exception-2.0+", `invalid exception identifier "Classpath-exception-2.0+"`},
		{"LicenseRef-acme+", `invalid license reference "acme+"`},
		{"DocumentRef-x", `"DocumentRef-x": want DocumentRef-<id>:LicenseRef-<id>`},
		{"MIT/Apache", `invalid character '/'`},
		{strings.Repeat("(", 33) + "MIT" + strings.Repeat(")", 33), `too many nested parentheses`},
	}
	for _, tc := range tests {
		t.Run(tc.with, func(t *testing.T) {
			quoted := fmt.Sprintf("%q", tc.with)
			if len(tc.with) > 64 {
				quoted = fmt.Sprintf("%q...", tc.with[:64])
			}
			want := fmt.Sprintf("plugin.toml:6:11: plugin.license: invalid SPDX license expression %s: %s", quoted, tc.expected)
			require.Equal(t, want, parseErr(t, withPlugin("license", `"`+tc.with+`"`)))
		})
	}
}

func TestParse_fs(t *testing.T) {
	fs := func(entries string) string { return header + "\n[capabilities]\nfs = [ " + entries + " ]\n" }
	runParseTests(t, []parseTest{
		{name: "siblings", with: fs(`{ path = "/data", mode = "ro" }, { path = "/data2", mode = "rw" }, { path = "/a/b", mode = "ro" }`)},
		{name: "empty", with: fs(``)},
		{
			name: "array of tables",
			with: header + `
[[capabilities.fs]]
path = "/data"
mode = "ro"

[[capabilities.fs]]
path = "/data/x"
`,
			expected: "plugin.toml:11:1: capabilities.fs[1].mode: missing required key\n" +
				`plugin.toml:12:8: capabilities.fs[1].path: "/data/x" is inside "/data" requested by capabilities.fs[0]: nested requests make the mounts ambiguous, keep only one`,
		},
		{
			name:     "root",
			with:     fs(`{ path = "/", mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: a plugin cannot ask for the whole guest root "/": name a directory, like "/data"`,
		},
		{
			name:     "relative",
			with:     fs(`{ path = "data", mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: invalid guest path "data": must be absolute, like "/data"`,
		},
		{
			name:     "not clean",
			with:     fs(`{ path = "/data/", mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: invalid guest path "/data/": must be clean: want "/data"`,
		},
		{
			name:     "dot-dot",
			with:     fs(`{ path = "/data/../..", mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: invalid guest path "/data/../..": must be clean: want "/"`,
		},
		{
			name:     "backslash",
			with:     fs(`{ path = '\data', mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: invalid guest path "\\data": use '/' as the separator, not '\'`,
		},
		{
			name:     "empty path",
			with:     fs(`{ path = "", mode = "ro" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: must not be empty`,
		},
		{
			name:     "mode missing",
			with:     fs(`{ path = "/data" }`),
			expected: `plugin.toml:8:8: capabilities.fs[0].mode: missing required key`,
		},
		{
			name:     "path missing",
			with:     fs(`{ mode = "ro" }`),
			expected: `plugin.toml:8:8: capabilities.fs[0].path: missing required key`,
		},
		{
			name:     "bad mode",
			with:     fs(`{ path = "/data", mode = "RW" }`),
			expected: `plugin.toml:8:33: capabilities.fs[0].mode: invalid mode "RW": want "ro" or "rw"`,
		},
		{
			name:     "unknown key",
			with:     fs(`{ path = "/data", mode = "ro", host = "/srv" }`),
			expected: `plugin.toml:8:39: capabilities.fs[0].host: unknown key`,
		},
		{
			name:     "duplicate",
			with:     fs(`{ path = "/data", mode = "ro" }, { path = "/data", mode = "rw" }`),
			expected: `plugin.toml:8:50: capabilities.fs[1].path: duplicate path: already requested by capabilities.fs[0]`,
		},
		{
			name:     "nested after",
			with:     fs(`{ path = "/a", mode = "ro" }, { path = "/a/b/c", mode = "rw" }`),
			expected: `plugin.toml:8:47: capabilities.fs[1].path: "/a/b/c" is inside "/a" requested by capabilities.fs[0]: nested requests make the mounts ambiguous, keep only one`,
		},
		{
			name:     "nested before",
			with:     fs(`{ path = "/a/b", mode = "ro" }, { path = "/a", mode = "rw" }`),
			expected: `plugin.toml:8:17: capabilities.fs[0].path: "/a/b" is inside "/a" requested by capabilities.fs[1]: nested requests make the mounts ambiguous, keep only one`,
		},
		{
			name:     "prefix is not nesting",
			with:     fs(`{ path = "/a", mode = "ro" }, { path = "/ab", mode = "rw" }, { path = "/a-b", mode = "rw" }`),
			expected: ``,
		},
		{
			name:     "not an array",
			with:     header + "\n[capabilities]\nfs = { path = \"/data\", mode = \"ro\" }\n",
			expected: `plugin.toml:8:6: capabilities.fs: expected an array, found table`,
		},
		{
			name:     "entry not a table",
			with:     fs(`"/data"`),
			expected: `plugin.toml:8:8: capabilities.fs[0]: expected a table, found string`,
		},
	})
}

func TestParse_netHostEnv(t *testing.T) {
	caps := func(key, list string) string { return header + "\n[capabilities]\n" + key + " = [ " + list + " ]\n" }
	runParseTests(t, []parseTest{
		{name: "net", with: caps("net", `"api.example.com", "*.example.org:8443", "10.0.0.0/8:80", "[::1]:443", "2001:db8::/32"`)},
		{name: "host", with: caps("host", `"compiler.ast", "studio.*", "a_b.c-d.e1"`)},
		{name: "env", with: caps("env", `"LANG", "TZ", "_x", "lower_case1"`)},
		{
			name:     "net star",
			with:     caps("net", `"*"`),
			expected: `plugin.toml:8:9: capabilities.net[0]: invalid net pattern "*": "*" would allow every host: name the hosts, or a domain like "*.example.org"`,
		},
		{
			name:     "net duplicate",
			with:     caps("net", `"a.example", "b.example", "a.example"`),
			expected: `plugin.toml:8:35: capabilities.net[2]: duplicate entry: already listed as capabilities.net[0]`,
		},
		{
			name:     "net not strings",
			with:     caps("net", `80`),
			expected: `plugin.toml:8:9: capabilities.net[0]: expected a string, found integer: quote it, like "80"`,
		},
		{
			name:     "host star",
			with:     caps("host", `"*"`),
			expected: `plugin.toml:8:10: capabilities.host[0]: "*" would allow every host call: name them, or a namespace like "studio.*"`,
		},
		{
			name:     "host star inside",
			with:     caps("host", `"a.*.b"`),
			expected: `plugin.toml:8:10: capabilities.host[0]: invalid host-call pattern "a.*.b": "*" may only be the last segment`,
		},
		{
			name:     "host partial star",
			with:     caps("host", `"studio.x*"`),
			expected: `plugin.toml:8:10: capabilities.host[0]: invalid host-call pattern "studio.x*": "*" must be a whole segment, and the last one`,
		},
		{
			name:     "host upper-case",
			with:     caps("host", `"Studio.open"`),
			expected: `plugin.toml:8:10: capabilities.host[0]: invalid host-call pattern "Studio.open": must be lower-case`,
		},
		{
			name:     "host empty segment",
			with:     caps("host", `"studio."`),
			expected: `plugin.toml:8:10: capabilities.host[0]: invalid host-call pattern "studio.": empty segment`,
		},
		{
			name:     "host other character",
			with:     caps("host", `"studio/open"`),
			expected: `plugin.toml:8:10: capabilities.host[0]: invalid host-call pattern "studio/open": segments hold only a-z, 0-9, '_' and '-'`,
		},
		{
			name:     "host empty",
			with:     caps("host", `""`),
			expected: `plugin.toml:8:10: capabilities.host[0]: empty host-call pattern`,
		},
		{
			name:     "host duplicate",
			with:     caps("host", `"a.b", "a.b"`),
			expected: `plugin.toml:8:17: capabilities.host[1]: duplicate entry: already listed as capabilities.host[0]`,
		},
		{
			name:     "env leading digit",
			with:     caps("env", `"1X"`),
			expected: `plugin.toml:8:9: capabilities.env[0]: invalid environment variable name "1X": want letters, digits and '_', not starting with a digit`,
		},
		{
			name:     "env equals",
			with:     caps("env", `"A=B"`),
			expected: `plugin.toml:8:9: capabilities.env[0]: invalid environment variable name "A=B": want letters, digits and '_', not starting with a digit`,
		},
		{
			name:     "env empty",
			with:     caps("env", `""`),
			expected: `plugin.toml:8:9: capabilities.env[0]: invalid environment variable name "": want letters, digits and '_', not starting with a digit`,
		},
		{
			name:     "env duplicate",
			with:     caps("env", `"TZ", "TZ"`),
			expected: `plugin.toml:8:15: capabilities.env[1]: duplicate entry: already listed as capabilities.env[0]`,
		},
		{
			name:     "unknown capability",
			with:     header + "\n[capabilities]\nfss = []\n",
			expected: `plugin.toml:8:1: capabilities.fss: unknown key`,
		},
	})
}

func TestParse_limits(t *testing.T) {
	limits := func(kv string) string { return header + "\n[limits]\n" + kv + "\n" }
	for _, tc := range []struct {
		with     string
		expected manifest.Limits
	}{
		{`memory = "64KiB"`, manifest.Limits{Memory: 64 << 10, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput}},
		{`memory = "4GiB"`, manifest.Limits{Memory: 4 << 30, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput}},
		{`memory = "131072"`, manifest.Limits{Memory: 128 << 10, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput}},
		{`timeout = "250ms"`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: 250 * time.Millisecond, Output: manifest.DefaultOutput}},
		{`timeout = "1m30s"`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: 90 * time.Second, Output: manifest.DefaultOutput}},
		{`output = "1B"`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: 1}},
		{`output = "1kB"`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: 1000}},
		{`fuel = 1`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput, Fuel: 1}},
		{`fuel = 50_000_000`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput, Fuel: 50_000_000}},
		{`fuel = 0x10`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput, Fuel: 16}},
		{`fuel = 4611686018427387904`, manifest.Limits{Memory: manifest.DefaultMemory, Timeout: manifest.DefaultTimeout, Output: manifest.DefaultOutput, Fuel: manifest.MaxFuel}},
	} {
		t.Run(tc.with, func(t *testing.T) {
			m, err := manifest.Parse("", []byte(limits(tc.with)))
			require.NoError(t, err)
			require.Equal(t, tc.expected, m.Limits)
		})
	}
	runParseTests(t, []parseTest{
		{
			name:     "memory not pages",
			with:     limits(`memory = "100KiB"`),
			expected: `plugin.toml:8:10: limits.memory: 100KiB is not a whole number of 64KiB wasm pages`,
		},
		{
			name:     "memory below one page",
			with:     limits(`memory = "0"`),
			expected: `plugin.toml:8:10: limits.memory: 0B is less than 64KiB (one wasm page)`,
		},
		{
			name:     "memory past 4GiB",
			with:     limits(`memory = "8GiB"`),
			expected: `plugin.toml:8:10: limits.memory: 8GiB is more than 4GiB (the wasm32 address space)`,
		},
		{
			name:     "memory junk",
			with:     limits(`memory = "lots"`),
			expected: `plugin.toml:8:10: limits.memory: invalid size "lots": must be a number of bytes, optionally followed by a unit, like "64MiB"`,
		},
		{
			name:     "memory integer",
			with:     limits(`memory = 65536`),
			expected: `plugin.toml:8:10: limits.memory: expected a string, found integer: quote it, like "65536"`,
		},
		{
			name:     "timeout zero",
			with:     limits(`timeout = "0s"`),
			expected: `plugin.toml:8:11: limits.timeout: invalid duration "0s": must be positive`,
		},
		{
			name:     "timeout negative",
			with:     limits(`timeout = "-5s"`),
			expected: `plugin.toml:8:11: limits.timeout: invalid duration "-5s": must be positive`,
		},
		{
			name:     "timeout without unit",
			with:     limits(`timeout = "30"`),
			expected: `plugin.toml:8:11: limits.timeout: invalid duration "30": missing unit, like "30s"`,
		},
		{
			name:     "timeout junk",
			with:     limits(`timeout = "soon"`),
			expected: `plugin.toml:8:11: limits.timeout: invalid duration "soon": want a number and a unit, like "5s" or "250ms"`,
		},
		{
			name:     "output zero",
			with:     limits(`output = "0B"`),
			expected: `plugin.toml:8:10: limits.output: must be at least 1B`,
		},
		{
			name:     "output overflow",
			with:     limits(`output = "16EiB"`),
			expected: `plugin.toml:8:10: limits.output: invalid size "16EiB": too large`,
		},
		{
			name:     "fuel zero",
			with:     limits(`fuel = 0`),
			expected: `plugin.toml:8:8: limits.fuel: must be positive, not 0 (leave it out for no budget)`,
		},
		{
			name:     "fuel negative",
			with:     limits(`fuel = -1`),
			expected: `plugin.toml:8:8: limits.fuel: must be positive, not -1 (leave it out for no budget)`,
		},
		{
			name:     "fuel too large",
			with:     limits(`fuel = 4611686018427387905`),
			expected: `plugin.toml:8:8: limits.fuel: 4611686018427387905 is over the most, 4611686018427387904`,
		},
		{
			name:     "fuel string",
			with:     limits(`fuel = "1000"`),
			expected: `plugin.toml:8:8: limits.fuel: expected an integer, found string`,
		},
		{
			name:     "fuel float",
			with:     limits(`fuel = 1e9`),
			expected: `plugin.toml:8:8: limits.fuel: expected an integer, found float`,
		},
		{
			name:     "unknown limit",
			with:     limits(`cpu = "1"`),
			expected: `plugin.toml:8:1: limits.cpu: unknown key`,
		},
		{
			name:     "inline",
			with:     header + `limits = { memory = "1MiB" }` + "\n",
			expected: `plugin.toml:6:1: plugin.limits: unknown key`,
		},
	})
}

func TestParse_config(t *testing.T) {
	m, err := manifest.Parse("", []byte(header+`
[config]
greeting = "Bonjour"
"with space" = ""
"a.b" = """
multi
line"""
`))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"greeting": "Bonjour", "with space": "", "a.b": "multi\nline"}, m.Config)

	runParseTests(t, []parseTest{
		{
			name:     "not a string",
			with:     header + "\n[config]\nretries = 3\n",
			expected: `plugin.toml:8:11: config.retries: expected a string, found integer: quote it, like "3"`,
		},
		{
			name:     "boolean",
			with:     header + "\n[config]\nverbose = true\n",
			expected: `plugin.toml:8:11: config.verbose: expected a string, found boolean`,
		},
		{
			name:     "nested table",
			with:     header + "\n[config.colors]\nred = \"#f00\"\n",
			expected: `plugin.toml:7:1: config.colors: expected a string, found table`,
		},
		{
			name:     "dotted key",
			with:     header + "\n[config]\ncolors.red = \"#f00\"\n",
			expected: `plugin.toml:8:1: config.colors: expected a string, found table`,
		},
		{
			name:     "empty key",
			with:     header + "\n[config]\n\"\" = \"x\"\n",
			expected: `plugin.toml:8:1: config."": empty key`,
		},
		{
			name:     "control character in key",
			with:     header + "\n[config]\n\"a\\u0001\" = \"x\"\n",
			expected: `plugin.toml:8:1: config."a\x01": must not contain control character U+0001`,
		},
		{
			name:     "control character in value",
			with:     header + "\n[config]\na = \"\\u0000\"\n",
			expected: `plugin.toml:8:5: config.a: must not contain control character U+0000`,
		},
		{
			name:     "not a table",
			with:     header + "config = \"x\"\n",
			expected: `plugin.toml:6:1: plugin.config: unknown key`,
		},
		{
			name:     "not a table at the root",
			with:     "config = \"x\"\n" + header,
			expected: `plugin.toml:1:10: config: expected a table, found string`,
		},
	})
}

func TestParse_dependencies(t *testing.T) {
	m, err := manifest.Parse("", []byte(header+`
[dependencies]
base-utils = "^1.2.0"
other = ">=1.0.0, <2.0.0 || 3.x"
any = "*"
`))
	require.NoError(t, err)
	require.Len(t, m.Dependencies, 3)
	d := m.Dependencies["base-utils"]
	require.Equal(t, "^1.2.0", d.Constraint)
	require.True(t, d.Constraints.Check(semver.MustParse("1.3.0")))
	require.False(t, d.Constraints.Check(semver.MustParse("2.0.0")))

	deps := func(kv string) string { return header + "\n[dependencies]\n" + kv + "\n" }
	runParseTests(t, []parseTest{
		{
			name:     "self",
			with:     deps(`hello = "^0.1.0"`),
			expected: `plugin.toml:8:1: dependencies.hello: a plugin cannot depend on itself`,
		},
		{
			name:     "self before [plugin]",
			with:     "[dependencies]\nhello = \"*\"\n" + header,
			expected: `plugin.toml:2:1: dependencies.hello: a plugin cannot depend on itself`,
		},
		{
			name:     "bad name",
			with:     deps(`Base_Utils = "^1.0.0"`),
			expected: `plugin.toml:8:1: dependencies.Base_Utils: invalid plugin name "Base_Utils": want a lower-case letter, then up to 63 lower-case letters, digits or '-'`,
		},
		{
			name:     "bad constraint",
			with:     deps(`base = "latest"`),
			expected: `plugin.toml:8:8: dependencies.base: invalid version constraint "latest": want a semver constraint like "^1.2.0" or ">=1.0.0, <2.0.0"`,
		},
		{
			name:     "empty constraint",
			with:     deps(`base = ""`),
			expected: `plugin.toml:8:8: dependencies.base: empty version constraint: write "*" to accept any version`,
		},
		{
			name:     "not a string",
			with:     deps(`base = 1`),
			expected: `plugin.toml:8:8: dependencies.base: expected a string, found integer: quote it, like "1"`,
		},
		{
			name:     "table",
			with:     deps(`base = { version = "1.0.0" }`),
			expected: `plugin.toml:8:8: dependencies.base: expected a string, found table`,
		},
	})
}

func TestParse_exports(t *testing.T) {
	m, err := manifest.Parse("", []byte(header+`
[exports.greet]
description = "Greets"

[exports.count]

[exports]
"say hello!" = { description = "Any UTF-8 name: é" }
`))
	require.NoError(t, err)
	require.Equal(t, map[string]manifest.Export{
		"greet":      {Description: "Greets"},
		"count":      {},
		"say hello!": {Description: "Any UTF-8 name: é"},
	}, m.Exports)

	runParseTests(t, []parseTest{
		{
			name:     "on-load",
			with:     header + "\n[exports.on-load]\n",
			expected: `plugin.toml:7:10: exports.on-load: "on-load" is a lifecycle hook, not a handler`,
		},
		{
			name:     "on-unload",
			with:     header + "\n[exports.on-unload]\n",
			expected: `plugin.toml:7:10: exports.on-unload: "on-unload" is a lifecycle hook, not a handler`,
		},
		{
			name:     "memory",
			with:     header + "\n[exports.memory]\n",
			expected: `plugin.toml:7:10: exports.memory: "memory" is reserved for the module's internals, not a handler`,
		},
		{
			name:     "cabi_",
			with:     header + "\n[exports.cabi_post_greet]\n",
			expected: `plugin.toml:7:10: exports.cabi_post_greet: "cabi_post_greet" is reserved for the module's internals, not a handler`,
		},
		{
			name:     "underscore",
			with:     header + "\n[exports._initialize]\n",
			expected: `plugin.toml:7:10: exports._initialize: "_initialize" is reserved for the module's internals, not a handler`,
		},
		{
			name:     "empty",
			with:     header + "\n[exports.\"\"]\n",
			expected: `plugin.toml:7:10: exports."": empty export name`,
		},
		{
			name:     "unknown key",
			with:     header + "\n[exports.greet]\ndescription = \"x\"\nparams = []\n",
			expected: `plugin.toml:9:1: exports.greet.params: unknown key`,
		},
		{
			name:     "not a table",
			with:     header + "\n[exports]\ngreet = \"Greets\"\n",
			expected: `plugin.toml:8:9: exports.greet: expected a table, found string`,
		},
		{
			name:     "description not a string",
			with:     header + "\n[exports.greet]\ndescription = [\"x\"]\n",
			expected: `plugin.toml:8:15: exports.greet.description: expected a string, found array`,
		},
	})
}

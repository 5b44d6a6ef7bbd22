package manifest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// TestParse_toml covers the TOML rules on keys and tables, which the manifest
// enforces itself, and the reporting of syntax errors.
func TestParse_toml(t *testing.T) {
	runParseTests(t, []parseTest{
		{
			name: "dotted keys",
			with: "plugin.name = \"hello\"\nplugin.version = \"0.1.0\"\nplugin.kind = \"go\"\nplugin.module = \"m.wasm\"\n",
		},
		{
			name: "inline table",
			with: "plugin = { name = \"hello\", version = \"0.1.0\", kind = \"go\", module = \"m.wasm\" }\n",
		},
		{
			name: "keys at the root",
			with: header[len("[plugin]\n"):],
			expected: "plugin.toml:1:1: name: unknown key\n" +
				"plugin.toml:2:1: version: unknown key\n" +
				"plugin.toml:3:1: kind: unknown key\n" +
				"plugin.toml:4:1: module: unknown key\n" +
				"plugin.toml: plugin: missing required table",
		},
		{
			name: "parent after sub-table",
			with: "[exports.greet]\n" + header,
		},
		{
			name:     "CRLF line endings",
			with:     strings.ReplaceAll(header+"nme = 1\n", "\n", "\r\n"),
			expected: "plugin.toml:6:1: plugin.nme: unknown key",
		},
		{
			name: "CRLF in multi-line strings",
			with: strings.ReplaceAll(header+"description = \"\"\"\nfirst\nsecond\"\"\"\n\n[config]\nk = '''\nx\ny'''\nnme = 1\n", "\n", "\r\n"),
			// The strings' newlines are LF, not refused as U+000D: only the
			// unknown key is a problem, on the line of the file.
			expected: `plugin.toml:14:7: config.nme: expected a string, found integer: quote it, like "1"`,
		},
		{
			name: "byte order mark",
			with: "\ufeff" + "[plugin]\nnme = 1\n",
			expected: "plugin.toml:1:1: plugin.name: missing required key\n" +
				"plugin.toml:1:1: plugin.version: missing required key\n" +
				"plugin.toml:1:1: plugin.kind: missing required key\n" +
				"plugin.toml:1:1: plugin.module: missing required key\n" +
				"plugin.toml:2:1: plugin.nme: unknown key",
		},
		{
			name:     "duplicate key",
			with:     header + "kind = \"go\"\n",
			expected: "plugin.toml:6:1: plugin.kind: duplicate key: already defined at line 4",
		},
		{
			name:     "duplicate key in an inline table",
			with:     header + "\n[capabilities]\nfs = [ { path = \"/a\", path = \"/b\", mode = \"ro\" } ]\n",
			expected: `plugin.toml:8:23: capabilities.fs[0].path: duplicate key: already defined at line 8`,
		},
		{
			name:     "duplicate quoted key",
			with:     header + "\"name\" = \"again\"\n",
			expected: "plugin.toml:6:1: plugin.name: duplicate key: already defined at line 2",
		},
		{
			name:     "duplicate table",
			with:     header + "[plugin]\n",
			expected: "plugin.toml:6:1: plugin: duplicate table: already defined at line 1",
		},
		{
			name:     "table after dotted keys",
			with:     "plugin.name = \"hello\"\nplugin.version = \"0.1.0\"\nplugin.kind = \"go\"\nplugin.module = \"m.wasm\"\n[plugin]\n",
			expected: "plugin.toml:5:1: plugin: duplicate table: already defined at line 1",
		},
		{
			name:     "dotted keys into a table defined by a header",
			with:     header + "[exports.greet]\n[exports]\ngreet.description = \"x\"\n",
			expected: "plugin.toml:8:1: exports.greet: table already defined at line 6: dotted keys cannot add to it",
		},
		{
			name:     "header into an inline table",
			with:     "plugin = { name = \"hello\", version = \"0.1.0\", kind = \"go\", module = \"m.wasm\" }\n[plugin.x]\n",
			expected: "plugin.toml:2:1: plugin: inline table defined at line 1 is closed: a table header cannot add to it",
		},
		{
			name:     "dotted keys into an inline table",
			with:     "plugin = { name = \"hello\", version = \"0.1.0\", kind = \"go\", module = \"m.wasm\" }\nplugin.abi = \"1\"\n",
			expected: "plugin.toml:2:1: plugin: inline table defined at line 1 is closed: dotted keys cannot add to it",
		},
		{
			name:     "array of tables onto a static array",
			with:     header + "[capabilities]\nfs = []\n[[capabilities.fs]]\n",
			expected: "plugin.toml:8:1: capabilities.fs: already defined at line 7 as an array: [[...]] cannot append to it",
		},
		{
			name:     "table onto an array of tables",
			with:     header + "[[capabilities.fs]]\npath = \"/a\"\nmode = \"ro\"\n[capabilities.fs]\n",
			expected: "plugin.toml:9:1: capabilities.fs: duplicate table: already defined at line 6",
		},
		{
			name:     "table under a string",
			with:     header + "[plugin.name.x]\n",
			expected: "plugin.toml:6:1: plugin.name: already defined at line 2 as a string: a table header cannot add to it",
		},
		{
			name:     "dotted key under a string",
			with:     header + "name.x = \"y\"\n",
			expected: "plugin.toml:6:1: plugin.name: already defined at line 2 as a string: dotted keys cannot add to it",
		},
		{
			name:     "array of tables: header into the last element",
			with:     header + "[[capabilities.fs]]\npath = \"/a\"\n[capabilities.fs.mode]\n",
			expected: "plugin.toml:8:1: capabilities.fs[0].mode: expected a string, found table",
		},
		{
			name: "refused header: its keys are skipped",
			with: header + "[plugin]\nunknown = 1\n[capabilities]\nfss = 1\n",
			expected: "plugin.toml:6:1: plugin: duplicate table: already defined at line 1\n" +
				"plugin.toml:9:1: capabilities.fss: unknown key",
		},
		{
			name:     "other value types",
			with:     header + "[config]\na = 1979-05-27T07:32:00Z\nb = 07:32:00\nc = +inf\nd = 0x1f\n",
			expected: "plugin.toml:7:5: config.a: expected a string, found date-time\nplugin.toml:8:5: config.b: expected a string, found date-time\nplugin.toml:9:5: config.c: expected a string, found float: quote it, like \"+inf\"\nplugin.toml:10:5: config.d: expected a string, found integer: quote it, like \"0x1f\"",
		},
		{
			name:     "array position after a quoted key",
			with:     header + "[capabilities]\n\"net\"   =   7\n\"env\"\t=\t[ 7 ]\n",
			expected: "plugin.toml:7:13: capabilities.net: expected an array, found integer\nplugin.toml:8:11: capabilities.env[0]: expected a string, found integer: quote it, like \"7\"",
		},
		{
			name:     "nested array",
			with:     header + "[capabilities]\nenv = [ [ \"A\" ] ]\n",
			expected: "plugin.toml:7:7: capabilities.env[0]: expected a string, found array",
		},
		{
			name:     "syntax error",
			with:     header + "description = 'unterminated\n",
			expected: "plugin.toml:6:28: syntax error: literal strings cannot have new lines",
		},
		{
			name:     "syntax error at the end",
			with:     header + "description =",
			expected: "plugin.toml:6:13: syntax error: expected value, not end of input",
		},
		{
			name:     "syntax error: no missing keys reported",
			with:     "[plugin]\nname = \"Hello\"\nversion = 1.0.0\nkind = \"go\"\n",
			expected: "plugin.toml:2:8: plugin.name: invalid plugin name \"Hello\": want a lower-case letter, then up to 63 lower-case letters, digits or '-'\nplugin.toml:3:14: syntax error: expected newline but got U+002E '.'",
		},
		{
			name:     "invalid UTF-8",
			with:     header + "description = \"\xff\"\n",
			expected: "plugin.toml:6:16: syntax error: invalid UTF-8 character in basic string",
		},
		{
			name:     "NUL byte",
			with:     header + "description = \"a\x00\"\n",
			expected: "plugin.toml:6:17: syntax error: basic strings cannot have control characters",
		},
		{
			name:     "bare NUL",
			with:     "\x00",
			expected: "plugin.toml:1:1: syntax error: invalid character at start of key: U+0000",
		},
		{
			name:     "empty file",
			with:     "",
			expected: "plugin.toml: plugin: missing required table",
		},
		{
			name:     "plugin is not a table",
			with:     "plugin = \"hello\"\n",
			expected: "plugin.toml:1:10: plugin: expected a table, found string",
		},
		{
			name:     "plugin is an array of tables",
			with:     "[[plugin]]\n",
			expected: "plugin.toml:1:1: plugin: expected a table, found array of tables",
		},
	})
}

func TestParse_allProblemsInFileOrder(t *testing.T) {
	doc := `[exports._start]

[limits]
memory = "1B"
timeout = "forever"
bogus = 1

[plugin]
name = "Hello"
version = "1"
kind = "java"
module = "/abs.wasm"
abi = "2"
license = "MIT AND"
homepage = "ftp://example.org"

[capabilities]
fs = [ { path = "/", mode = "x" }, { path = "rel" } ]
net = [ "*", "http://example.org" ]
host = [ "*" ]
env = [ "1X" ]

[config]
n = 1

[dependencies]
Bad = "?"
`
	_, err := manifest.Parse("plugin.toml", []byte(doc))
	var merr *manifest.Error
	require.True(t, errors.As(err, &merr))
	require.Equal(t, `plugin.toml:1:10: exports._start: "_start" is reserved for the module's internals, not a handler
plugin.toml:4:10: limits.memory: 1B is less than 64KiB (one wasm page)
plugin.toml:5:11: limits.timeout: invalid duration "forever": want a number and a unit, like "5s" or "250ms"
plugin.toml:6:1: limits.bogus: unknown key
plugin.toml:9:8: plugin.name: invalid plugin name "Hello": want a lower-case letter, then up to 63 lower-case letters, digits or '-'
plugin.toml:10:11: plugin.version: invalid version "1": want a semantic version 2.0.0 like "1.2.3" or "1.0.0-rc.1"
plugin.toml:11:8: plugin.kind: unknown kind "java": want wasm, c, go, rust, vitte or python
plugin.toml:12:10: plugin.module: invalid path "/abs.wasm": must be relative to the plugin folder, without a leading '/'
plugin.toml:13:7: plugin.abi: unsupported ABI "2": only ABI major version 1 is supported
plugin.toml:14:11: plugin.license: invalid SPDX license expression "MIT AND": expected a license identifier, found end of expression
plugin.toml:15:12: plugin.homepage: invalid URL "ftp://example.org": want an absolute http or https URL
plugin.toml:18:17: capabilities.fs[0].path: a plugin cannot ask for the whole guest root "/": name a directory, like "/data"
plugin.toml:18:29: capabilities.fs[0].mode: invalid mode "x": want "ro" or "rw"
plugin.toml:18:36: capabilities.fs[1].mode: missing required key
plugin.toml:18:45: capabilities.fs[1].path: invalid guest path "rel": must be absolute, like "/data"
plugin.toml:19:9: capabilities.net[0]: invalid net pattern "*": "*" would allow every host: name the hosts, or a domain like "*.example.org"
plugin.toml:19:14: capabilities.net[1]: invalid net pattern "http://example.org": want a host, not a URL: drop the scheme, like "api.example.com"
plugin.toml:20:10: capabilities.host[0]: "*" would allow every host call: name them, or a namespace like "studio.*"
plugin.toml:21:9: capabilities.env[0]: invalid environment variable name "1X": want letters, digits and '_', not starting with a digit
plugin.toml:24:5: config.n: expected a string, found integer: quote it, like "1"
plugin.toml:27:1: dependencies.Bad: invalid plugin name "Bad": want a lower-case letter, then up to 63 lower-case letters, digits or '-'
plugin.toml:27:7: dependencies.Bad: invalid version constraint "?": want a semver constraint like "^1.2.0" or ">=1.0.0, <2.0.0"`, err.Error())

	require.Len(t, merr.Problems, 22)
	for i := 1; i < len(merr.Problems); i++ {
		a, b := merr.Problems[i-1], merr.Problems[i]
		require.True(t, a.Line < b.Line || a.Line == b.Line && a.Column <= b.Column, "%v before %v", a, b)
	}
	require.Len(t, merr.Unwrap(), 22)
	var p manifest.Problem
	require.True(t, errors.As(err, &p))
	require.Equal(t, manifest.Problem{File: "plugin.toml", Line: 1, Column: 10, Key: "exports._start", Message: `"_start" is reserved for the module's internals, not a handler`}, p)
}

func TestParse_CRLF(t *testing.T) {
	doc := strings.ReplaceAll(header+"description = \"\"\"\nfirst\nsecond\"\"\"\n[config]\nk = '''\nx\ny'''\n", "\n", "\r\n")
	m, err := manifest.Parse("", []byte(doc))
	require.NoError(t, err)
	require.Equal(t, "first\nsecond", m.Plugin.Description)
	require.Equal(t, "x\ny", m.Config["k"])
}

func TestParse_hostile(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		data := []byte(header + "description = \"" + strings.Repeat("x", manifest.MaxFileSize) + "\"\n")
		_, err := manifest.Parse("", data)
		require.EqualError(t, err, fmt.Sprintf("plugin.toml: file too large (%d bytes): a manifest is at most 1MiB", len(data)))
	})
	t.Run("deep nesting", func(t *testing.T) {
		_, err := manifest.Parse("", []byte("a = "+strings.Repeat("[", 20000)))
		require.EqualError(t, err, "plugin.toml:1:10005: syntax error: arrays and inline tables are nested more than the maximum of 10000 levels deep")
	})
	t.Run("deep nesting closed", func(t *testing.T) {
		_, err := manifest.Parse("", []byte(header+"[config]\na = "+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+"\n"))
		require.EqualError(t, err, "plugin.toml:7:5: config.a: expected a string, found array")
	})
	t.Run("too many problems", func(t *testing.T) {
		doc := header + "[capabilities]\nenv = [" + strings.Repeat(`"1",`, 2000) + "]\n"
		_, err := manifest.Parse("", []byte(doc))
		var merr *manifest.Error
		require.True(t, errors.As(err, &merr))
		require.Len(t, merr.Problems, 1001)
		require.Equal(t, manifest.Problem{File: "plugin.toml", Message: "too many problems: 1000 more not shown"}, merr.Problems[1000])
	})
	t.Run("long values are cut in messages", func(t *testing.T) {
		_, err := manifest.Parse("", []byte(withPlugin("kind", `"`+strings.Repeat("é", 100)+`"`)))
		require.EqualError(t, err, `plugin.toml:4:8: plugin.kind: unknown kind "`+strings.Repeat("é", 32)+`"...: want wasm, c, go, rust, vitte or python`)
	})
	t.Run("dotted key of 1MiB", func(t *testing.T) {
		// It built half a million nested tables: 5.6 s and 340 MB.
		data := []byte(strings.Repeat("a.", (manifest.MaxFileSize-10)/2) + "a = 1\n")
		_, err := manifest.Parse("", data)
		require.EqualError(t, err, fmt.Sprintf("plugin.toml:1:1: a: key of %d dotted parts: at most 16\n", (manifest.MaxFileSize-10)/2+1)+
			"plugin.toml: plugin: missing required table")
	})
	t.Run("table header of too many parts", func(t *testing.T) {
		_, err := manifest.Parse("", []byte(header+"["+strings.Repeat("x.", 16)+"x]\nk = 1\n"))
		require.EqualError(t, err, "plugin.toml:6:2: x: key of 17 dotted parts: at most 16")
	})
	t.Run("keys are quoted in messages", func(t *testing.T) {
		_, err := manifest.Parse("", []byte(header+"\"\\u001b[2J\" = 1\n"))
		require.EqualError(t, err, `plugin.toml:6:1: plugin."\x1b[2J": unknown key`)
	})
}

func TestProblem_Error(t *testing.T) {
	tests := []struct {
		name     string
		with     manifest.Problem
		expected string
	}{
		{"all", manifest.Problem{File: "plugin.toml", Line: 12, Column: 3, Key: "capabilities.fss", Message: "unknown key"}, "plugin.toml:12:3: capabilities.fss: unknown key"},
		{"no column", manifest.Problem{File: "plugin.toml", Line: 12, Key: "a", Message: "m"}, "plugin.toml:12: a: m"},
		{"no position", manifest.Problem{File: "plugin.toml", Key: "plugin", Message: "missing required table"}, "plugin.toml: plugin: missing required table"},
		{"no key", manifest.Problem{File: "plugin.toml", Line: 1, Column: 1, Message: "syntax error: x"}, "plugin.toml:1:1: syntax error: x"},
		{"no file", manifest.Problem{Key: "plugin.name", Message: "missing required key"}, "plugin.name: missing required key"},
		{"no file, with position", manifest.Problem{Line: 2, Column: 5, Message: "m"}, "2:5: m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.expected, tc.with.Error())
		})
	}
}

func TestError_Error(t *testing.T) {
	err := &manifest.Error{Problems: []manifest.Problem{
		{File: "a.toml", Line: 1, Column: 1, Message: "one"},
		{File: "a.toml", Line: 2, Column: 1, Message: "two"},
	}}
	require.Equal(t, "a.toml:1:1: one\na.toml:2:1: two", err.Error())
	require.Equal(t, []error{err.Problems[0], err.Problems[1]}, err.Unwrap())
	require.ErrorIs(t, err, err.Problems[1])
}

func TestParse_tabs(t *testing.T) {
	runParseTests(t, []parseTest{
		{name: "in a description", with: withPlugin("description", `"a\tb"`)},
		{name: "in a config value", with: header + "[config]\na = \"x\\ty\"\n"},
		{
			name:     "in a module path",
			with:     withPlugin("module", `"a\tb.wasm"`),
			expected: `plugin.toml:5:10: plugin.module: must not contain control character U+0009`,
		},
		{
			name:     "in an author",
			with:     withPlugin("authors", `["Ada\tLovelace"]`),
			expected: `plugin.toml:6:12: plugin.authors[0]: must not contain control character U+0009`,
		},
	})
}

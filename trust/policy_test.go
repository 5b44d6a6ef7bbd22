package trust_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/trust"
)

// Keys of the policy tests, made once by minisign.GenerateKey.
const (
	pubA = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"
	pubB = "RWRpzq/GwycdJTmM1QlzSuAdbeuQvDxJZXBjV2NHLkmIUCK2/fHvcBBp"
)

const fullPolicy = `# Keys of the team.
[keys.alice]
minisign = "` + pubA + `"
not_before = 2026-01-01
not_after = 2027-01-01T00:00:00Z

[keys.bob]
minisign = "` + pubB + `"
revoked = true

[[policy]]
scopes = ["oci://registry.example/vitte/*", "file:///srv/plugins/*"]
level = "strict"
keys = ["alice", "bob"]
threshold = 2

[policy.max_capabilities]
fs = [{ path = "/data", mode = "ro" }]
net = ["api.example.com"]
host = ["compiler.*"]
env = []

[[policy]]
scopes = ["name:acme-*"]
level = "audit"
keys = []

[[policy]]
scopes = ["*"]
level = "permissive"
keys = ["alice"]
`

func TestParse(t *testing.T) {
	p, err := trust.Parse("trust.toml", []byte(fullPolicy))
	require.NoError(t, err)
	require.Equal(t, "trust.toml", p.File())
	keys := p.Keys()
	require.Len(t, keys, 2)
	require.Equal(t, "alice", keys[0].Name)
	require.Equal(t, pubA, keys[0].PublicKey.String())
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), keys[0].NotBefore)
	require.Equal(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), keys[0].NotAfter)
	require.False(t, keys[0].Revoked)
	require.Equal(t, "bob", keys[1].Name)
	require.True(t, keys[1].Revoked)
	require.Equal(t, trust.KeyID(keys[0].PublicKey.ID()), keys[0].ID())

	rules := p.Rules()
	require.Len(t, rules, 3)
	require.Equal(t, trust.Rule{
		Scopes: []string{"oci://registry.example/vitte/*", "file:///srv/plugins/*"}, Level: trust.Strict, Keys: []string{"alice", "bob"}, Threshold: 2,
		MaxCapabilities: &manifest.Capabilities{FS: []manifest.FSRequest{{Path: "/data", Mode: manifest.ReadOnly}}, Net: []string{"api.example.com"}, Host: []string{"compiler.*"}},
	}, rules[0])
	require.Equal(t, trust.Rule{Scopes: []string{"name:acme-*"}, Level: trust.Audit, Keys: []string{}, Threshold: 1}, rules[1])
	require.Equal(t, trust.Rule{Scopes: []string{"*"}, Level: trust.Permissive, Keys: []string{"alice"}, Threshold: 1}, rules[2])

	// Copies.
	rules[0].Keys[0] = "changed"
	rules[0].MaxCapabilities.Net[0] = "changed"
	require.Equal(t, "alice", p.Rules()[0].Keys[0])
	require.Equal(t, "api.example.com", p.Rules()[0].MaxCapabilities.Net[0])

	// An empty file is a valid policy with nothing in it; so is a BOM.
	for _, s := range []string{"", "\ufeff# nothing\n"} {
		e, err := trust.Parse("", []byte(s))
		require.NoError(t, err)
		require.Empty(t, e.Keys())
		require.Empty(t, e.Rules())
		require.Equal(t, trust.FileName, e.File())
	}
}

func TestParse_Errors(t *testing.T) {
	key := "[keys.alice]\nminisign = \"" + pubA + "\"\n"
	rule := "[[policy]]\nscopes = [\"*\"]\nkeys = [\"alice\"]\n"
	tests := []struct {
		name string
		with string
		want []string // every problem, as printed
	}{
		{name: "syntax error", with: "[keys.alice\n", want: []string{"trust.toml:1:12: syntax error: expected ']' to close table name"}},
		{name: "duplicate key", with: key + "minisign = \"x\"\n", want: []string{"trust.toml:3:1: syntax error: key minisign is already defined"}},
		{name: "duplicate table", with: key + key, want: []string{"trust.toml:3:2: syntax error: table alice already exists"}},
		{name: "unknown top-level key", with: "version = 1\n", want: []string{"trust.toml:1:1: version: unknown key"}},
		{name: "unknown key in a key", with: key + "comment = \"x\"\n", want: []string{"trust.toml:3:1: keys.alice.comment: unknown key"}},
		{name: "unknown key in a policy", with: key + rule + "levl = \"strict\"\n", want: []string{"trust.toml:6:1: policy[0].levl: unknown key"}},
		{name: "keys not a table", with: "keys = 1\n", want: []string{"trust.toml:1:8: keys: expected a table, found an integer"}},
		{name: "policy not an array", with: "[policy]\nscopes = []\n", want: []string{"trust.toml:1:2: policy: expected an array of tables [[policy]], found a table"}},
		{name: "missing minisign", with: "[keys.alice]\nrevoked = false\n", want: []string{"trust.toml:1:7: keys.alice.minisign: missing required key"}},
		{name: "bad public key", with: "[keys.alice]\nminisign = \"RWQnotakey\"\n", want: []string{`trust.toml:2:12: keys.alice.minisign: "RWQnotakey": invalid public key: illegal base64 data at input byte 8`}},
		{name: "pub file text", with: "[keys.alice]\nminisign = \"untrusted comment: minisign public key 1\\n" + pubA + "\"\n", want: []string{"trust.toml:2:12: keys.alice.minisign: write the key alone"}},
		{name: "key name", with: "[keys.\"al ice\"]\nminisign = \"" + pubA + "\"\n", want: []string{`trust.toml:1:7: keys."al ice": key name "al ice": want 1 to 64 letters`}},
		{name: "same key twice", with: key + "[keys.bob]\nminisign = \"" + pubA + "\"\n", want: []string{"trust.toml:4:12: keys.bob.minisign: the same key id E7620F1842B4E81F as keys.alice: one key, one name"}},
		{name: "quoted date", with: key + "not_after = \"2027-01-01\"\n", want: []string{"trust.toml:3:13: keys.alice.not_after: expected a date, found a string: write it without quotes"}},
		{name: "local date-time", with: key + "not_after = 2027-01-01T00:00:00\n", want: []string{`trust.toml:3:13: keys.alice.not_after: a date-time needs a time zone: add "Z" for UTC, like 2027-01-01T00:00:00Z`}},
		{name: "integer date", with: key + "not_before = 2027\n", want: []string{"trust.toml:3:14: keys.alice.not_before: expected a date (2027-01-01) or an offset date-time (2027-01-01T00:00:00Z), found an integer"}},
		{name: "empty period", with: key + "not_before = 2027-01-01\nnot_after = 2026-01-01\n", want: []string{"trust.toml:4:13: keys.alice.not_after: 2026-01-01T00:00:00Z is not after not_before 2027-01-01T00:00:00Z"}},
		{name: "revoked not a boolean", with: key + "revoked = \"yes\"\n", want: []string{"trust.toml:3:11: keys.alice.revoked: expected a boolean, found a string"}},
		{name: "missing scopes", with: key + "[[policy]]\nkeys = [\"alice\"]\n", want: []string{"trust.toml:3:3: policy[0].scopes: missing required key"}},
		{name: "empty scopes", with: key + "[[policy]]\nscopes = []\nkeys = [\"alice\"]\n", want: []string{"trust.toml:4:1: policy[0].scopes: empty: a policy covers at least one scope"}},
		{name: "bad scope", with: key + "[[policy]]\nscopes = [\"*\", \"https://x/*\", \"file://srv/*\", \"file:///srv/../x/*\", \"name:Acme\", \"oci://a/*/b\"]\nkeys = [\"alice\"]\n", want: []string{
			`trust.toml:4:16: policy[0].scopes[1]: "https://x/*": want oci://..., file:///..., name:... or "*"`,
			`trust.toml:4:31: policy[0].scopes[2]: "file://srv/*": want file:// and an absolute path, like file:///srv/plugins/*`,
			`trust.toml:4:47: policy[0].scopes[3]: "file:///srv/../x/*": the path is not clean (".", ".." or "//")`,
			`trust.toml:4:69: policy[0].scopes[4]: "name:Acme": a plugin name starts with a-z and has only a-z, 0-9 and "-"`,
			`trust.toml:4:82: policy[0].scopes[5]: "oci://a/*/b": "*" may only end a pattern`,
		}},
		{name: "scope used twice", with: key + rule + rule, want: []string{`trust.toml:7:11: policy[1].scopes[0]: scope "*" is already used by policy[0]: one scope, one policy`}},
		{name: "duplicate scope", with: key + "[[policy]]\nscopes = [\"*\", \"*\"]\nkeys = [\"alice\"]\n", want: []string{"trust.toml:4:16: policy[0].scopes[1]: duplicate entry: already listed as policy[0].scopes[0]"}},
		{name: "unknown level", with: key + rule + "level = \"strikt\"\n", want: []string{`trust.toml:6:9: policy[0].level: unknown level "strikt": want strict, permissive, audit or skip`}},
		{name: "undefined key", with: key + "[[policy]]\nscopes = [\"*\"]\nkeys = [\"alice\", \"bob\"]\n", want: []string{`trust.toml:5:18: policy[0].keys[1]: no key named "bob": define it in a [keys.bob] table`}},
		{name: "strict without keys", with: "[[policy]]\nscopes = [\"*\"]\n", want: []string{"trust.toml:1:3: policy[0].keys: level strict needs at least one key"}},
		{name: "threshold too high", with: key + rule + "threshold = 2\n", want: []string{"trust.toml:6:13: policy[0].threshold: 2 distinct keys required but only 1 listed in keys"}},
		{name: "threshold zero", with: key + rule + "threshold = 0\n", want: []string{"trust.toml:6:13: policy[0].threshold: 0: want at least 1 distinct key"}},
		{name: "threshold string", with: key + rule + "threshold = \"1\"\n", want: []string{"trust.toml:6:13: policy[0].threshold: expected an integer, found a string"}},
		{name: "keys string", with: key + "[[policy]]\nscopes = [\"*\"]\nkeys = \"alice\"\n", want: []string{"trust.toml:5:8: policy[0].keys: expected an array of strings, found a string"}},
		{name: "max_capabilities unknown key", with: key + rule + "[policy.max_capabilities]\nfss = []\n", want: []string{"trust.toml:7:1: policy[0].max_capabilities.fss: unknown key"}},
		{name: "max_capabilities bad values", with: key + rule + "[policy.max_capabilities]\nfs = [{ path = \"data\", mode = \"rx\" }]\nnet = [\"http://x\"]\nenv = [\"A B\"]\n", want: []string{
			"trust.toml:7:16: policy[0].max_capabilities.fs[0].path: ",
			"trust.toml:7:31: policy[0].max_capabilities.fs[0].mode: invalid mode \"rx\": want \"ro\" or \"rw\"",
			"trust.toml:8:8: policy[0].max_capabilities.net[0]: ",
			"trust.toml:9:8: policy[0].max_capabilities.env[0]: ",
		}},
		{name: "max_capabilities bad types", with: key + rule + "[policy.max_capabilities]\nfs = [\"/data\"]\nenv = [1]\nhost = \"x\"\n", want: []string{
			"trust.toml:7:7: policy[0].max_capabilities.fs[0]: expected a table, found a string",
			"trust.toml:8:8: policy[0].max_capabilities.env[0]: expected a string, found an integer",
			"trust.toml:9:8: policy[0].max_capabilities.host: expected an array of strings, found a string",
		}},
		{name: "every problem at once", with: "x = 1\n[keys.a]\nminisign = 1\n[[policy]]\nscopes = [\"nope\"]\nlevel = \"x\"\n", want: []string{
			"trust.toml:1:1: x: unknown key",
			"trust.toml:3:12: keys.a.minisign: expected a string, found an integer: quote it",
			"trust.toml:5:11: policy[0].scopes[0]: ",
			"trust.toml:6:9: policy[0].level: ",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := trust.Parse("trust.toml", []byte(tc.with))
			require.Nil(t, p)
			require.ErrorIs(t, err, trust.ErrPolicy)
			var pe *trust.PolicyError
			require.True(t, errors.As(err, &pe))
			var got []string
			for _, pr := range pe.Problems {
				got = append(got, pr.Error())
			}
			require.Len(t, got, len(tc.want), strings.Join(got, "\n"))
			for i, w := range tc.want {
				require.True(t, strings.HasPrefix(got[i], w), "problem %d:\n got %s\nwant %s...", i, got[i], w)
			}
		})
	}

	big := make([]byte, trust.MaxFileSize+1)
	_, err := trust.Parse("", big)
	require.ErrorContains(t, err, "trust.toml: file too large")
}

func TestPolicy_Match(t *testing.T) {
	p := parse(t, `[keys.a]
minisign = "`+pubA+`"
[[policy]]
scopes = ["*"]
level = "audit"
[[policy]]
scopes = ["file:///srv/*"]
level = "audit"
[[policy]]
scopes = ["file:///srv/plugins/*", "oci://registry.example/vitte/*"]
level = "audit"
[[policy]]
scopes = ["file:///srv/plugins/hello.vitplug"]
level = "audit"
[[policy]]
scopes = ["file:///srv/plugins/hello.vitplug*"]
level = "audit"
[[policy]]
scopes = ["name:acme-*"]
level = "audit"
[[policy]]
scopes = ["name:acme-tools"]
level = "audit"
[[policy]]
scopes = ["oci://*"]
level = "audit"
`)
	tests := []struct {
		source, name string
		rule         int
		scope        string
	}{
		{"file:///srv/plugins/hello.vitplug", "hello", 3, "file:///srv/plugins/hello.vitplug"},
		{"file:///srv/plugins/hello.vitplug.old", "hello", 4, "file:///srv/plugins/hello.vitplug*"},
		{"file:///srv/plugins/sub/x.vitplug", "hello", 2, "file:///srv/plugins/*"},
		{"file:///srv/pluginsx/x.vitplug", "acme-x", 1, "file:///srv/*"},
		{"file:///home/me/acme-x.vitplug", "acme-x", 5, "name:acme-*"},
		{"file:///home/me/acme-tools.vitplug", "acme-tools", 6, "name:acme-tools"},
		{"file:///home/me/x.vitplug", "x", 0, "*"},
		{"oci://registry.example/vitte/hello:0.1.0", "acme-tools", 2, "oci://registry.example/vitte/*"},
		{"oci://other.example/hello:0.1.0", "acme-tools", 7, "oci://*"},
		{"", "acme-x", 5, "name:acme-*"},
		{"", "x", 0, "*"},
	}
	for _, tc := range tests {
		t.Run(tc.source+" "+tc.name, func(t *testing.T) {
			r, i, scope := p.Match(tc.source, tc.name)
			require.Equal(t, tc.rule, i)
			require.Equal(t, tc.scope, scope)
			require.Contains(t, r.Scopes, scope)
		})
	}

	// No rule covers it: the default, which trusts nothing.
	q := parse(t, "[keys.a]\nminisign = \""+pubA+"\"\n[[policy]]\nscopes = [\"name:x\"]\nkeys = [\"a\"]\n")
	r, i, scope := q.Match("file:///x", "y")
	require.Equal(t, -1, i)
	require.Empty(t, scope)
	require.Equal(t, trust.Rule{Level: trust.Strict, Threshold: 1}, r)
	var none *trust.Policy
	r, i, _ = none.Match("file:///x", "y")
	require.Equal(t, -1, i)
	require.Equal(t, trust.Strict, r.Level)
}

func TestPolicy_Marshal(t *testing.T) {
	p := parse(t, fullPolicy)
	out := p.Marshal()
	q, err := trust.Parse("trust.toml", out)
	require.NoError(t, err, string(out))
	require.Equal(t, p.Keys(), q.Keys())
	require.Equal(t, p.Rules(), q.Rules())
	require.Equal(t, out, q.Marshal())
	require.Contains(t, string(out), "not_before = 2026-01-01T00:00:00Z\n")

	var none *trust.Policy
	e, err := trust.Parse("", none.Marshal())
	require.NoError(t, err)
	require.Empty(t, e.Keys())
}

func TestPolicy_WithKey(t *testing.T) {
	a, b := newKey(t), newKey(t)
	var none *trust.Policy

	p, err := none.WithKey("alice", a.pub, nil, "")
	require.NoError(t, err)
	require.Equal(t, []trust.Rule{{Scopes: []string{"*"}, Level: trust.Strict, Keys: []string{"alice"}, Threshold: 1}}, p.Rules())

	// Same scope: the rule gets the key; a new scope: a new rule.
	p, err = p.WithKey("bob", b.pub, []string{"*", "name:acme-*"}, trust.Permissive)
	require.NoError(t, err)
	require.Equal(t, []trust.Rule{
		{Scopes: []string{"*"}, Level: trust.Permissive, Keys: []string{"alice", "bob"}, Threshold: 1},
		{Scopes: []string{"name:acme-*"}, Level: trust.Permissive, Keys: []string{"bob"}, Threshold: 1},
	}, p.Rules())
	// Again: nothing changes.
	again, err := p.WithKey("bob", b.pub, []string{"name:acme-*"}, "")
	require.NoError(t, err)
	require.Equal(t, p.Rules(), again.Rules())

	_, err = p.WithKey("bob", a.pub, nil, "")
	require.ErrorContains(t, err, "add key bob: a different key is already named bob")
	_, err = p.WithKey("carol", a.pub, nil, "")
	require.ErrorContains(t, err, "is already in the trust file as alice")
	_, err = p.WithKey("no way", a.pub, nil, "")
	require.ErrorContains(t, err, `key name "no way"`)
	_, err = p.WithKey("carol", newKey(t).pub, []string{"http://x"}, "")
	require.ErrorContains(t, err, `add key carol: scope "http://x": want oci://`)
	_, err = p.WithKey("carol", newKey(t).pub, nil, "lax")
	require.ErrorContains(t, err, `unknown level "lax"`)

	// Remove: bob leaves both rules, the second goes.
	q, err := p.WithoutKey("bob")
	require.NoError(t, err)
	require.Equal(t, []trust.Rule{{Scopes: []string{"*"}, Level: trust.Permissive, Keys: []string{"alice"}, Threshold: 1}}, q.Rules())
	_, ok := q.Key("bob")
	require.False(t, ok)
	_, err = q.WithoutKey("bob")
	require.ErrorIs(t, err, fs.ErrNotExist)

	two := parse(t, "[keys.a]\nminisign = \""+pubA+"\"\n[keys.b]\nminisign = \""+pubB+"\"\n[[policy]]\nscopes = [\"*\"]\nkeys = [\"a\", \"b\"]\nthreshold = 2\n")
	_, err = two.WithoutKey("a")
	require.ErrorContains(t, err, "remove key a: policy[0] needs 2 distinct keys and would have 1 left")

	audit := parse(t, "[keys.a]\nminisign = \""+pubA+"\"\n[[policy]]\nscopes = [\"*\"]\nlevel = \"audit\"\nkeys = [\"a\"]\n")
	q, err = audit.WithoutKey("a")
	require.NoError(t, err)
	require.Equal(t, []trust.Rule{{Scopes: []string{"*"}, Level: trust.Audit, Keys: []string{}, Threshold: 1}}, q.Rules())

	// The override survives edits.
	u := none.WithInsecureAllowUnsigned()
	require.True(t, u.InsecureAllowUnsigned())
	u, err = u.WithKey("alice", a.pub, nil, "")
	require.NoError(t, err)
	require.True(t, u.InsecureAllowUnsigned())
	require.False(t, p.InsecureAllowUnsigned())
}

func TestWriteFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "vitte")
	path := filepath.Join(dir, "trust.toml")
	_, err := trust.LoadFile(path)
	require.ErrorIs(t, err, fs.ErrNotExist)

	var none *trust.Policy
	p, err := none.WithKey("alice", newKey(t).pub, []string{"file:///srv/*"}, trust.Audit)
	require.NoError(t, err)
	require.NoError(t, trust.WriteFile(path, p))
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	q, err := trust.LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, path, q.File())
	require.Equal(t, p.Rules(), q.Rules())

	// The mode of an existing file is kept; no temporary file is left.
	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, trust.WriteFile(path, q))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)

	// A corrupt file is a located error.
	require.NoError(t, os.WriteFile(path, []byte("[keys.alice]\nminisign = \"x\"\n"), 0o600))
	_, err = trust.LoadFile(path)
	require.ErrorIs(t, err, trust.ErrPolicy)
	require.ErrorContains(t, err, path+":2:12: keys.alice.minisign: ")
}

func TestLoadFile_NotAPolicyFile(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.toml")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 5<<20)) // sparse: no disk used
	folder := filepath.Join(dir, "folder.toml")
	require.NoError(t, os.Mkdir(folder, 0o700))

	for _, tc := range []struct {
		name, path, msg string
		is              error
	}{
		{name: "too large", path: huge, is: trust.ErrPolicy, msg: huge + ": file too large (5242880 bytes): a trust file is at most 1MiB"},
		{name: "folder", path: folder, msg: "read trust policy: " + folder + " is not a regular file (folder)"},
		{name: "missing", path: filepath.Join(dir, "nope.toml"), is: fs.ErrNotExist, msg: "read trust policy: open " + filepath.Join(dir, "nope.toml") + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trust.LoadFile(tc.path)
			require.ErrorContains(t, err, tc.msg)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/home/me/.config")
	t.Setenv("HOME", "/home/me")
	p, err := trust.DefaultPath()
	require.NoError(t, err)
	if filepath.Separator == '/' && !strings.Contains(p, "Library") {
		require.Equal(t, "/home/me/.config/vitte/trust.toml", p)
	}
}

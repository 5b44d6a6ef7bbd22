package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/adapters/python"
	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
	"github.com/vitte-lang/vitte-plugin/runtime"
)

// The file system capability, seen from a guest: testdata/wasm/fs-probe
// (C, wasi-libc) and testdata/wasm/fs-probe-go (Go, os package) ask for
// /data (rw) and /ro (ro) and report what each file operation did, as
// "ok: ..." or "error: <strerror>".
//
// Every refusal is an audit event of kind fs, whichever layer makes it
// (runtime/internal/engine/wazeroengine), and the guest sees EACCES
// ("Permission denied", in wasi-libc and in Go), as the manifest's
// "Grants" section asks, except between two granted mounts:
//
//   - A path under no mount (/etc/passwd, /tmp/x, /) reaches the empty,
//     refusing file system mounted at "/" under the granted mounts
//     (denyfs.go): wasi-libc and Go's syscall package both pick the longest
//     preopened prefix, so /data/... still goes to /data. "outside every
//     granted mount".
//   - wazero cleans the path relative to a mount and refuses one that climbs
//     out lexically (/data/../secret) with EPERM, and a rename or link
//     between two file systems with ENOSYS, before reaching any: the
//     wrapped WASI functions (wasifs.go) report those, and answer EACCES
//     for the climb, EXDEV ("Cross-device link") between two mounts (both
//     granted: not past the grant), EACCES when one side is outside every
//     mount. Go's syscall package cleans a path itself ("/data/../x" is
//     "/x"), so for Go those are paths under no mount.
//   - Everything else reaches the mount (rootfs.go), which resolves it in
//     an os.Root: a symbolic link pointing out is refused, so is a
//     symbolic link whose target leaves the mount, and every change to a
//     read-only mount.

// fsSecret is the content of the files outside every mount.
const fsSecret = "TOP-SECRET-fs-probe"

// fsAudit collects audit events.
type fsAudit struct {
	mu     sync.Mutex
	events []capabilities.Event
}

func (a *fsAudit) record(e capabilities.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

// take returns the events recorded since the last take.
func (a *fsAudit) take() []capabilities.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := a.events
	a.events = nil
	return ev
}

// fsHost is the host side of an fs-probe plugin, in a temporary directory:
//
//	secret.txt            fsSecret, outside every mount
//	secretdir/inner.txt   fsSecret, outside every mount
//	data/                 granted as /data, read-write
//	  hello.txt           "hello from data"
//	  link-out   -> ../secret.txt
//	  abs-out    -> <tmp>/secret.txt
//	  dir-out    -> ../secretdir
//	ro/                   granted as /ro read-write; the manifest asks ro
//	  ro.txt              "read only"
//	  sub/
type fsHost struct {
	tmp, data, ro string
	rt            *runtime.Runtime
	p             *runtime.Plugin
	audit         *fsAudit
}

// loadFSProbe builds the host tree and loads fixture with grants(data, ro).
func loadFSProbe(t *testing.T, fixtureName string, grants func(data, ro string) capabilities.Grants) *fsHost {
	t.Helper()
	tmp := loadFSProbeTree(t)
	h := &fsHost{tmp: tmp, data: filepath.Join(tmp, "data"), ro: filepath.Join(tmp, "ro"), audit: &fsAudit{}}
	if fixtureName == "fs-probe-py" {
		h.rt = newPyRuntime(t, runtime.NewConfig().WithAuditor(h.audit.record)).rt
	} else {
		h.rt = newRuntime(t, runtime.NewConfig().WithAuditor(h.audit.record)).rt
	}
	return h.reload(t, fixtureName, grants)
}

// loadFSProbeTree builds the host tree of fsHost in a new temporary
// directory, and returns it.
func loadFSProbeTree(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	h := &fsHost{tmp: tmp, data: filepath.Join(tmp, "data"), ro: filepath.Join(tmp, "ro")}
	write := func(p, s string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(filepath.Join(tmp, "secret.txt"), fsSecret)
	write(filepath.Join(tmp, "secretdir", "inner.txt"), fsSecret)
	write(filepath.Join(h.data, "hello.txt"), "hello from data")
	write(filepath.Join(h.ro, "ro.txt"), "read only")
	require.NoError(t, os.Mkdir(filepath.Join(h.ro, "sub"), 0o755))
	require.NoError(t, os.Symlink("../secret.txt", filepath.Join(h.data, "link-out")))
	require.NoError(t, os.Symlink(filepath.Join(tmp, "secret.txt"), filepath.Join(h.data, "abs-out")))
	require.NoError(t, os.Symlink("../secretdir", filepath.Join(h.data, "dir-out")))
	return tmp
}

// reload loads fixtureName again, in the same runtime and host tree, with
// grants(data, ro). The plugins loaded before stay loaded.
func (h *fsHost) reload(t *testing.T, fixtureName string, grants func(data, ro string) capabilities.Grants) *fsHost {
	t.Helper()
	p, err := h.rt.LoadWithConfig(context.Background(), fixture(fixtureName), runtime.NewLoadConfig().WithGrants(grants(h.data, h.ro)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	h2 := *h
	h2.p = p
	return &h2
}

// noGrants grants nothing.
func noGrants(string, string) capabilities.Grants { return capabilities.NewGrants() }

// grantBoth grants /data and /ro, both read-write.
func grantBoth(data, ro string) capabilities.Grants {
	return capabilities.NewGrants().WithDir("/data", data, manifest.ReadWrite).WithDir("/ro", ro, manifest.ReadWrite)
}

// call runs handler fn of the probe, which always returns ok bytes.
func (h *fsHost) call(t *testing.T, fn, in string) string {
	t.Helper()
	out, err := h.p.Call(context.Background(), fn, []byte(in))
	require.NoError(t, err, "%s %q", fn, in)
	return string(out)
}

// checkUntouched asserts that nothing outside /data changed: the secrets,
// the read-only mount, the temporary directory's entries.
func (h *fsHost) checkUntouched(t *testing.T) {
	t.Helper()
	for _, p := range []string{"secret.txt", "secretdir/inner.txt"} {
		b, err := os.ReadFile(filepath.Join(h.tmp, p))
		require.NoError(t, err)
		assert.Equal(t, fsSecret, string(b), p)
	}
	list := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	assert.Equal(t, []string{"data", "ro", "secret.txt", "secretdir"}, list(h.tmp))
	assert.Equal(t, []string{"inner.txt"}, list(filepath.Join(h.tmp, "secretdir")))
	assert.Equal(t, []string{"ro.txt", "sub"}, list(h.ro))
	b, err := os.ReadFile(filepath.Join(h.ro, "ro.txt"))
	require.NoError(t, err)
	assert.Equal(t, "read only", string(b))
}

// noSecret asserts that out shows nothing of the files outside the mounts.
func noSecret(t *testing.T, out string) {
	t.Helper()
	assert.NotContains(t, out, fsSecret)
	assert.NotContains(t, out, "root:", "/etc/passwd")
}

const (
	guestEACCES      = "error: Permission denied"
	guestEXDEV       = "error: Cross-device link"
	guestENOENT      = "error: No such file or directory"
	ruleEscapesData  = "path escapes mount /data"
	ruleReadOnlyRO   = "read-only mount /ro"
	ruleSymlinkEscap = "symlink target escapes mount /data"
	ruleSymlinkDots  = "symlink target has .. in mount /data"
	ruleOutside      = "outside every granted mount"
)

// fsEscape is one attempt to reach past the grant.
type fsEscape struct {
	name string
	// setup are calls made first, each of which must answer "ok".
	setup [][2]string
	fn    string
	in    string
	// expected is what the C guest sees; expectedGo what the Go guest sees,
	// when it differs (see fsGuestView).
	expected, expectedGo string
	// event is the audit event expected (Op, Resource, Rule; "<tmp>" in
	// Resource stands for the host's temporary directory), or nil where
	// nothing is refused; eventGo the one for the Go guest when it
	// differs.
	event, eventGo *capabilities.Event
}

func fsEvent(op, resource, rule string) *capabilities.Event {
	return &capabilities.Event{Op: op, Resource: resource, Rule: rule}
}

var fsEscapes = []fsEscape{
	// Paths outside every mount: refused by the file system at "/".
	{name: "absolute path", fn: "read", in: "/etc/passwd", expected: guestEACCES, event: fsEvent("open", "/etc/passwd", ruleOutside)},
	{name: "absolute path to the secret", fn: "read", in: "<tmp>/secret.txt", expected: guestEACCES, event: fsEvent("open", "<tmp>/secret.txt", ruleOutside)},
	{name: "list /", fn: "list", in: "/", expected: guestEACCES, event: fsEvent("readdir", "/", ruleOutside)},
	{name: "stat /", fn: "stat", in: "/", expected: guestEACCES, event: fsEvent("stat", "/", ruleOutside)},
	{name: "write outside every mount", fn: "write", in: "/tmp/new.txt\nx", expected: guestEACCES, event: fsEvent("open", "/tmp/new.txt", ruleOutside)},
	{name: "mkdir outside every mount", fn: "mkdir", in: "/tmp/new", expected: guestEACCES, event: fsEvent("mkdir", "/tmp/new", ruleOutside)},
	{name: "symlink outside every mount", fn: "symlink", in: "/data/hello.txt\n/tmp/l", expected: guestEACCES, event: fsEvent("symlink", "/tmp/l", ruleOutside)},
	{name: "rename out of every mount", fn: "rename", in: "/data/hello.txt\n/tmp/hello.txt", expected: guestEACCES, event: fsEvent("rename", "/tmp/hello.txt", ruleOutside)},
	{name: "rename in from outside every mount", fn: "rename", in: "<tmp>/secret.txt\n/data/stolen.txt", expected: guestEACCES, event: fsEvent("rename", "<tmp>/secret.txt", ruleOutside)},
	{name: "hard link in from outside every mount", fn: "link", in: "<tmp>/secret.txt\n/data/hard", expected: guestEACCES, event: fsEvent("link", "<tmp>/secret.txt", ruleOutside)},
	// Lexical escapes: refused by wazero, reported by the wrapped WASI
	// functions (C); cleaned by Go's syscall package into a path outside
	// every mount (Go).
	{
		name: "dot-dot to /etc/passwd", fn: "read", in: "/data/../../etc/passwd", expected: guestEACCES,
		event: fsEvent("open", "/data/../../etc/passwd", ruleEscapesData), eventGo: fsEvent("open", "/etc/passwd", ruleOutside),
	},
	{
		name: "dot-dot to the secret", fn: "read", in: "/data/../secret.txt", expected: guestEACCES,
		event: fsEvent("open", "/data/../secret.txt", ruleEscapesData), eventGo: fsEvent("open", "/secret.txt", ruleOutside),
	},
	{
		name: "list the parent", fn: "list", in: "/data/..", expected: guestEACCES,
		event: fsEvent("open", "/data/..", ruleEscapesData), eventGo: fsEvent("readdir", "/", ruleOutside),
	},
	{
		name: "stat the parent", fn: "stat", in: "/data/..", expected: guestEACCES,
		event: fsEvent("stat", "/data/..", ruleEscapesData), eventGo: fsEvent("stat", "/", ruleOutside),
	},
	{
		name: "mkdir through dot-dot", fn: "mkdir", in: "/data/../evil", expected: guestEACCES,
		event: fsEvent("mkdir", "/data/../evil", ruleEscapesData), eventGo: fsEvent("mkdir", "/evil", ruleOutside),
	},
	{
		name: "unlink through dot-dot", fn: "unlink", in: "/data/../secret.txt", expected: guestEACCES,
		event: fsEvent("unlink", "/data/../secret.txt", ruleEscapesData), eventGo: fsEvent("unlink", "/secret.txt", ruleOutside),
	},
	{
		name: "rename out through dot-dot", fn: "rename", in: "/data/hello.txt\n/data/../hello.txt", expected: guestEACCES,
		event: fsEvent("rename", "/data/../hello.txt", ruleEscapesData), eventGo: fsEvent("rename", "/hello.txt", ruleOutside),
	},
	{
		name: "hard link in through dot-dot", fn: "link", in: "/data/../secret.txt\n/data/hard", expected: guestEACCES,
		event: fsEvent("link", "/data/../secret.txt", ruleEscapesData), eventGo: fsEvent("link", "/secret.txt", ruleOutside),
	},
	// ".." after a file: ENOTDIR, as Linux resolves it (wazero cleaned it
	// away, and opened the file). Go's syscall package cleans the path in
	// the guest, before WASI sees it.
	{name: "dot-dot after a file", fn: "read", in: "/data/hello.txt/../hello.txt", expected: "error: Not a directory", expectedGo: "ok: hello from data"},
	{name: "dot-dot after a missing name", fn: "read", in: "/data/nope/../hello.txt", expected: guestENOENT, expectedGo: "ok: hello from data"},
	// Between two mounts: refused by wazero, reported by the wrapped WASI
	// functions, EXDEV.
	{name: "rename between mounts", fn: "rename", in: "/data/hello.txt\n/ro/hello.txt", expected: guestEXDEV, event: fsEvent("rename", "/data/hello.txt", "across mounts /data and /ro")},
	{name: "hard link between mounts", fn: "link", in: "/ro/ro.txt\n/data/ro-link", expected: guestEXDEV, event: fsEvent("link", "/ro/ro.txt", "across mounts /ro and /data")},
	// Symbolic links inside the mount pointing out: refused by os.Root.
	{name: "relative link to a file outside", fn: "read", in: "/data/link-out", expected: guestEACCES, event: fsEvent("open", "/data/link-out", ruleEscapesData)},
	{name: "absolute link to a file outside", fn: "read", in: "/data/abs-out", expected: guestEACCES, event: fsEvent("open", "/data/abs-out", ruleEscapesData)},
	{name: "link to a directory outside", fn: "read", in: "/data/dir-out/inner.txt", expected: guestEACCES, event: fsEvent("open", "/data/dir-out/inner.txt", ruleEscapesData)},
	{name: "list a directory outside through a link", fn: "list", in: "/data/dir-out", expected: guestEACCES, event: fsEvent("open", "/data/dir-out", ruleEscapesData)},
	{name: "stat through a link", fn: "stat", in: "/data/link-out", expected: guestEACCES, event: fsEvent("stat", "/data/link-out", ruleEscapesData)},
	{name: "write through a link to a directory outside", fn: "write", in: "/data/dir-out/new.txt\nx", expected: guestEACCES, event: fsEvent("open", "/data/dir-out/new.txt", ruleEscapesData)},
	{name: "rename out through a link", fn: "rename", in: "/data/hello.txt\n/data/dir-out/hello.txt", expected: guestEACCES, event: fsEvent("rename", "/data/dir-out/hello.txt", ruleEscapesData)},
	{name: "rename in through a link", fn: "rename", in: "/data/dir-out/inner.txt\n/data/stolen.txt", expected: guestEACCES, event: fsEvent("rename", "/data/dir-out/inner.txt", ruleEscapesData)},
	{name: "hard link of a file outside", fn: "link", in: "/data/dir-out/inner.txt\n/data/hard", expected: guestEACCES, event: fsEvent("link", "/data/dir-out/inner.txt", ruleEscapesData)},
	{name: "unlink through a link", fn: "unlink", in: "/data/dir-out/inner.txt", expected: guestEACCES, event: fsEvent("unlink", "/data/dir-out/inner.txt", ruleEscapesData)},
	// Links the guest makes.
	{name: "guest symlink to ..", fn: "symlink", in: "../secret.txt\n/data/mine", expected: guestEACCES, event: fsEvent("symlink", "/data/mine", ruleSymlinkEscap)},
	{name: "guest symlink to an absolute path", fn: "symlink", in: "/etc/passwd\n/data/mine", expected: guestEACCES, event: fsEvent("symlink", "/data/mine", ruleSymlinkEscap)},
	{name: "read the refused guest symlink", fn: "read", in: "/data/mine", expected: guestENOENT},
	// Chains: a target is refused when it has a ".." at all, wherever it
	// would resolve today, since renaming a directory or replacing a link
	// changes where a ".." leads (issue 18, finding 7).
	{name: "guest symlink L3 -> sub/..", setup: [][2]string{{"mkdir", "/data/sub"}}, fn: "symlink", in: "sub/..\n/data/L3", expected: guestEACCES, event: fsEvent("symlink", "/data/L3", ruleSymlinkDots)},
	{name: "guest symlink L4 -> L3/.. after L3 -> sub", setup: [][2]string{{"mkdir", "/data/sub"}, {"symlink", "sub\n/data/L3"}}, fn: "symlink", in: "L3/..\n/data/L4", expected: guestEACCES, event: fsEvent("symlink", "/data/L4", ruleSymlinkDots)},
	{name: "guest symlink to a/b/../../..", setup: [][2]string{{"mkdir", "/data/sub"}}, fn: "symlink", in: "sub/x/../../..\n/data/sub/L5", expected: guestEACCES, event: fsEvent("symlink", "/data/sub/L5", ruleSymlinkDots)},
	{name: "guest symlink to ../hello.txt from a subdirectory", setup: [][2]string{{"mkdir", "/data/sub"}}, fn: "symlink", in: "../hello.txt\n/data/sub/up", expected: guestEACCES, event: fsEvent("symlink", "/data/sub/up", ruleSymlinkDots)},
	{name: "guest symlink to a dangling name with ..", fn: "symlink", in: "later/..\n/data/L3", expected: guestEACCES, event: fsEvent("symlink", "/data/L3", ruleSymlinkDots)},
	{
		name:  "guest symlink chain without .., then read",
		setup: [][2]string{{"symlink", "hello.txt\n/data/L3"}, {"symlink", "L3\n/data/L4"}},
		fn:    "read", in: "/data/L4", expected: "ok: hello from data",
	},
	{
		name:  "guest symlink through a link, then read",
		setup: [][2]string{{"symlink", "dir-out/inner.txt\n/data/mine"}}, // lexically inside: created
		fn:    "read", in: "/data/mine", expected: guestEACCES, event: fsEvent("open", "/data/mine", ruleEscapesData),
	},
	// link() does not follow the link: "hard" would be one more name
	// for a link leading out.
	{name: "hard link of a link pointing out", fn: "link", in: "/data/link-out\n/data/hard", expected: guestEACCES, event: fsEvent("link", "/data/link-out", ruleSymlinkEscap)},
	{name: "read the refused hard link", fn: "read", in: "/data/hard", expected: guestENOENT},
	// The read-only mount.
	{name: "create in the read-only mount", fn: "write", in: "/ro/new.txt\nx", expected: guestEACCES, event: fsEvent("create", "/ro/new.txt", ruleReadOnlyRO)},
	{name: "overwrite in the read-only mount", fn: "write", in: "/ro/ro.txt\nx", expected: guestEACCES, event: fsEvent("create", "/ro/ro.txt", ruleReadOnlyRO)},
	{name: "append in the read-only mount", fn: "append", in: "/ro/ro.txt\nx", expected: guestEACCES, event: fsEvent("create", "/ro/ro.txt", ruleReadOnlyRO)},
	{name: "truncate in the read-only mount", fn: "truncate", in: "/ro/ro.txt", expected: guestEACCES, event: fsEvent("write", "/ro/ro.txt", ruleReadOnlyRO)},
	{name: "unlink in the read-only mount", fn: "unlink", in: "/ro/ro.txt", expected: guestEACCES, event: fsEvent("unlink", "/ro/ro.txt", ruleReadOnlyRO)},
	{name: "mkdir in the read-only mount", fn: "mkdir", in: "/ro/new", expected: guestEACCES, event: fsEvent("mkdir", "/ro/new", ruleReadOnlyRO)},
	{name: "rmdir in the read-only mount", fn: "rmdir", in: "/ro/sub", expected: guestEACCES, event: fsEvent("rmdir", "/ro/sub", ruleReadOnlyRO)},
	{name: "rename in the read-only mount", fn: "rename", in: "/ro/ro.txt\n/ro/moved.txt", expected: guestEACCES, event: fsEvent("rename", "/ro/ro.txt", ruleReadOnlyRO)},
	{name: "symlink in the read-only mount", fn: "symlink", in: "ro.txt\n/ro/l", expected: guestEACCES, event: fsEvent("symlink", "/ro/l", ruleReadOnlyRO)},
	{name: "hard link in the read-only mount", fn: "link", in: "/ro/ro.txt\n/ro/l", expected: guestEACCES, event: fsEvent("link", "/ro/l", ruleReadOnlyRO)},
	{name: "set times in the read-only mount", fn: "utimes", in: "/ro/ro.txt", expected: guestEACCES, event: fsEvent("utimens", "/ro/ro.txt", ruleReadOnlyRO)},
}

// TestFS runs the probes on each guest. Each guest is compiled once (the
// Go probe takes half a minute to compile under the race detector): the
// subtests share one plugin and one host tree, and leave the tree as they
// found it.
func TestFS(t *testing.T) {
	for _, name := range fsProbeFixtures(t) {
		t.Run(name, func(t *testing.T) {
			h := loadFSProbe(t, name, grantBoth)
			t.Run("Escapes", func(t *testing.T) { testFSEscapes(t, h, name) })
			t.Run("Allowed", func(t *testing.T) { testFSAllowed(t, h) })
			t.Run("WritesReachTheHost", func(t *testing.T) { testFSWritesReachTheHost(t, h) })
			t.Run("NoGrants", func(t *testing.T) { testFSNoGrants(t, h.reload(t, name, noGrants), name) })
		})
	}
}

// testFSEscapes: every attempt fails in the guest, shows nothing of the
// secrets, changes nothing outside /data, is audited where the host's mount
// code refused it, and the next call works.
func testFSEscapes(t *testing.T, h *fsHost, name string) {
	for _, tc := range fsEscapes {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.setup {
				require.Equal(t, "ok", h.call(t, c[0], c[1]), "setup %s %q", c[0], c[1])
			}
			h.audit.take()
			defer func() {
				h.checkUntouched(t)
				assert.Equal(t, "ok: hello from data", h.call(t, "read", "/data/hello.txt"), "the next call works")
				for _, f := range []string{"mine", "hard", "stolen.txt", "ro-link", "L3", "L4", "sub/L5", "sub/up", "sub"} {
					_ = os.Remove(filepath.Join(h.data, f))
				}
			}()
			in := strings.ReplaceAll(tc.in, "<tmp>", h.tmp)
			out := h.call(t, tc.fn, in)
			expected := tc.expected
			if name == "fs-probe-go" && tc.expectedGo != "" {
				expected = tc.expectedGo
			}
			assert.Equal(t, expected, out)
			noSecret(t, out)

			// One event per refusal the mount saw; Go's os package
			// may make more than one file call per operation (a
			// rename looks at its destination first).
			events := h.audit.take()
			event := tc.event
			if name == "fs-probe-go" && tc.eventGo != nil {
				event = tc.eventGo
			}
			if event == nil {
				assert.Empty(t, events, "nothing refused: nothing to audit")
				return
			}
			want := *event
			want.Resource = strings.ReplaceAll(want.Resource, "<tmp>", h.tmp)
			var seen []capabilities.Event
			for _, ev := range events {
				assert.Equal(t, capabilities.KindFS, ev.Kind)
				assert.Equal(t, tc.fn, ev.Function)
				assert.Equal(t, name, ev.Plugin)
				assert.False(t, ev.Allowed)
				seen = append(seen, capabilities.Event{Op: ev.Op, Resource: ev.Resource, Rule: ev.Rule})
			}
			assert.Contains(t, seen, want)
			if name == "fs-probe" {
				assert.Len(t, events, 1)
			}
		})
	}
}

// testFSAllowed: what the grant allows works, and is not audited (only
// denials are, by default).
func testFSAllowed(t *testing.T, h *fsHost) {
	h.audit.take()
	steps := []struct{ fn, in, expected string }{
		{"read", "/data/hello.txt", "ok: hello from data"},
		{"read", "/ro/ro.txt", "ok: read only"},
		{"list", "/ro", "ok: ro.txt sub"},
		{"stat", "/ro/ro.txt", "ok: file 9"},
		{"write", "/data/new.txt\nnew content", "ok: wrote 11 bytes"},
		{"append", "/data/new.txt\n!", "ok: wrote 1 bytes"},
		{"read", "/data/new.txt", "ok: new content!"},
		{"mkdir", "/data/dir", "ok"},
		{"rename", "/data/new.txt\n/data/dir/moved.txt", "ok"},
		{"symlink", "moved.txt\n/data/dir/soft", "ok"},
		{"symlink", "soft\n/data/dir/up", "ok"}, // a link to a link
		{"read", "/data/dir/soft", "ok: new content!"},
		{"read", "/data/dir/up", "ok: new content!"},
		{"readlink", "/data/dir/up", "ok: soft"},
		{"lstat", "/data/link-out", "ok: link 13"},
		{"link", "/data/dir/moved.txt\n/data/hard.txt", "ok"},
		{"stat", "/data/hard.txt", "ok: file 12"},
		{"list", "/data", "ok: abs-out dir dir-out hard.txt hello.txt link-out"},
		{"list", "/data/dir", "ok: moved.txt soft up"},
		{"utimes", "/data/hard.txt", "ok"},
		{"truncate", "/data/hard.txt", "ok"},
		{"stat", "/data/dir/moved.txt", "ok: file 0"},
		{"unlink", "/data/dir/soft", "ok"},
		{"unlink", "/data/dir/up", "ok"},
		{"unlink", "/data/dir/moved.txt", "ok"},
		{"rmdir", "/data/dir", "ok"},
		{"unlink", "/data/hard.txt", "ok"},
		{"list", "/data", "ok: abs-out dir-out hello.txt link-out"},
	}
	for _, s := range steps {
		assert.Equal(t, s.expected, h.call(t, s.fn, s.in), "%s %q", s.fn, s.in)
	}
	assert.Empty(t, h.audit.take())
	h.checkUntouched(t)
}

// testFSWritesReachTheHost: a write in /data is the host's file, and the
// other way round.
func testFSWritesReachTheHost(t *testing.T, h *fsHost) {
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(h.data, "out.txt"))
		_ = os.Remove(filepath.Join(h.data, "in.txt"))
	})
	require.Equal(t, "ok: wrote 5 bytes", h.call(t, "write", "/data/out.txt\nhello"))
	b, err := os.ReadFile(filepath.Join(h.data, "out.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
	require.NoError(t, os.WriteFile(filepath.Join(h.data, "in.txt"), []byte("from host"), 0o644))
	assert.Equal(t, "ok: from host", h.call(t, "read", "/data/in.txt"))
}

// TestFS_ReadOnlyRequestStaysReadOnly: the manifest asks /ro read-only; a
// read-write grant does not widen it.
func TestFS_ReadOnlyRequestStaysReadOnly(t *testing.T) {
	h := loadFSProbe(t, "fs-probe", grantBoth)
	mounts := h.p.Capabilities().Mounts
	require.Len(t, mounts, 2)
	assert.Equal(t, capabilities.Mount{Guest: "/data", Host: h.data, Mode: manifest.ReadWrite}, mounts[0])
	assert.Equal(t, capabilities.Mount{Guest: "/ro", Host: h.ro, Mode: manifest.ReadOnly}, mounts[1])
	assert.Equal(t, guestEACCES, h.call(t, "write", "/ro/ro.txt\nx"))
	h.checkUntouched(t)
}

// testFSNoGrants: without a grant the guest's only preopened directory is
// the empty, refusing "/": every path fails with EACCES and is audited.
// h is loaded with no grants.
func testFSNoGrants(t *testing.T, h *fsHost, name string) {
	assert.Empty(t, h.p.Capabilities().Mounts)
	assert.Equal(t, []string{"fs /data (rw)", "fs /ro (ro)"}, h.p.Capabilities().Denied)
	var refused []string
	for _, ev := range h.audit.take() {
		assert.Equal(t, capabilities.KindFS, ev.Kind)
		assert.Equal(t, "load", ev.Function)
		refused = append(refused, ev.Resource)
	}
	assert.Len(t, refused, 2, "the load records each request not granted: %v", refused)
	for _, c := range [][2]string{
		{"read", "/data/hello.txt"},
		{"list", "/data"},
		{"list", "/"},
		{"list", "."},
		{"read", "hello.txt"},
		{"write", "/data/new.txt\nx"},
		{"read", "/etc/passwd"},
	} {
		out := h.call(t, c[0], c[1])
		assert.Equal(t, guestEACCES, out, "%s %q", c[0], c[1])
		noSecret(t, out)
		events := h.audit.take()
		if name == "fs-probe" {
			assert.Len(t, events, 1, "%s %q", c[0], c[1])
		} else {
			assert.NotEmpty(t, events, "%s %q", c[0], c[1])
		}
		for _, ev := range events {
			assert.Equal(t, capabilities.KindFS, ev.Kind)
			assert.Equal(t, c[0], ev.Function)
			assert.Equal(t, ruleOutside, ev.Rule)
			assert.False(t, ev.Allowed)
		}
	}
	_, err := os.Stat(filepath.Join(h.data, "new.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	h.checkUntouched(t)
}

// TestFS_OneMountGranted: granting /data only leaves /ro invisible.
func TestFS_OneMountGranted(t *testing.T) {
	h := loadFSProbe(t, "fs-probe", func(data, _ string) capabilities.Grants {
		return capabilities.NewGrants().WithDir("/data", data, manifest.ReadWrite)
	})
	assert.Equal(t, []string{"fs /ro (ro)"}, h.p.Capabilities().Denied)
	assert.Equal(t, "ok: hello from data", h.call(t, "read", "/data/hello.txt"))
	h.audit.take()
	assert.Equal(t, guestEACCES, h.call(t, "read", "/ro/ro.txt"))
	assert.Equal(t, guestEACCES, h.call(t, "list", "/ro"))
	var seen []capabilities.Event
	for _, ev := range h.audit.take() {
		seen = append(seen, capabilities.Event{Op: ev.Op, Resource: ev.Resource, Rule: ev.Rule})
	}
	assert.Equal(t, []capabilities.Event{*fsEvent("open", "/ro/ro.txt", ruleOutside), *fsEvent("open", "/ro", ruleOutside)}, seen)
}

// fsProbeFixtures lists the fs-probe fixtures: the C one, the Go one when
// it has been built, and the Python one when the interpreter is there.
func fsProbeFixtures(t *testing.T) []string {
	t.Helper()
	names := []string{"fs-probe"}
	if _, err := os.Stat(filepath.Join(fixture("fs-probe-go"), "fs-probe-go.wasm")); err == nil {
		names = append(names, "fs-probe-go")
	}
	// The Python probe (open, os, pathlib) needs the interpreter: see
	// requirePython, python_test.go.
	if dir, err := python.DefaultDir(); err == nil {
		if _, err := python.Find(dir); err == nil || os.Getenv("CI") == "true" {
			names = append(names, "fs-probe-py")
		}
	}
	return slices.Clip(names)
}

// TestFS_OverlappingMountsWarn: a host folder granted read-only at one
// guest path and read-write at another is logged at load: the read-only
// mount is writable through the other.
func TestFS_OverlappingMountsWarn(t *testing.T) {
	tmp := loadFSProbeTree(t)
	e := newRuntime(t, runtime.NewConfig())
	data := filepath.Join(tmp, "data")
	p, err := e.rt.LoadWithConfig(context.Background(), fixture("fs-probe"), runtime.NewLoadConfig().WithGrants(
		capabilities.NewGrants().WithDir("/data", data, manifest.ReadWrite).WithDir("/ro", data, manifest.ReadWrite)))
	require.NoError(t, err)
	defer p.Close(context.Background())
	logs := e.logs.String()
	assert.Contains(t, logs, "level=WARN msg=\"overlapping mounts with different modes\"")
	assert.Contains(t, logs, "fs /ro (ro) and fs /data (rw) share host files ("+data+" and "+data+"): what /ro shows read-only is writable through /data")
	assert.Equal(t, guestEACCES, (&fsHost{p: p}).call(t, "write", "/ro/x.txt\nx"), "/ro stays read-only itself")

	e2 := newRuntime(t, runtime.NewConfig())
	p2, err := e2.rt.LoadWithConfig(context.Background(), fixture("fs-probe"), runtime.NewLoadConfig().WithGrants(grantBoth(data, filepath.Join(tmp, "ro"))))
	require.NoError(t, err)
	defer p2.Close(context.Background())
	assert.NotContains(t, e2.logs.String(), "overlapping mounts")
}

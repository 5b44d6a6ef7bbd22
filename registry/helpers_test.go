package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// helloWasm is the module of every test package: the hello-c fixture,
// built by scripts/build-c-fixtures.sh.
var helloWasm = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "testdata", "wasm", "hello-c", "hello-c.wasm"))
})

// fixedNow is the clock of the test registries.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// spec describes a test package: hello-c with another plugin.toml.
type spec struct {
	name, version string
	// caps is the body of [capabilities], deps maps names to constraints.
	caps string
	deps map[string]string
	// extra is appended to plugin.toml (a [config] table...), to make
	// other content under the same name and version.
	extra string
}

func (s spec) manifest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[plugin]\nname = %q\nversion = %q\nkind = \"c\"\nmodule = \"hello-c.wasm\"\n", s.name, s.version)
	caps := s.caps
	if caps == "" {
		caps = `host = ["test.*"]`
	}
	fmt.Fprintf(&b, "\n[capabilities]\n%s\n", caps)
	if len(s.deps) > 0 {
		b.WriteString("\n[dependencies]\n")
		names := make([]string, 0, len(s.deps))
		for n := range s.deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s = %q\n", n, s.deps[n])
		}
	}
	if s.extra != "" {
		b.WriteString("\n" + s.extra + "\n")
	}
	return b.String()
}

// pack writes the package s describes into dir and returns its path.
func pack(t testing.TB, dir string, s spec) string {
	t.Helper()
	return packManifest(t, dir, s.name+"-"+s.version, s.manifest())
}

// packManifest packs hello-c with the plugin.toml text m as
// dir/<file>.vitplug.
func packManifest(t testing.TB, dir, file, m string) string {
	t.Helper()
	wasm, err := helloWasm()
	require.NoError(t, err)
	src := filepath.Join(t.TempDir(), file)
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "plugin.toml"), []byte(m), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "hello-c.wasm"), wasm, 0o644))
	out := filepath.Join(dir, file+".vitplug")
	_, err = vitplug.PackFile(src, out, vitplug.Limits{})
	require.NoError(t, err)
	return out
}

// openTest opens the registry in dir with the fixed clock.
func openTest(t testing.TB, dir string) *Registry {
	t.Helper()
	r, err := Open(dir)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	require.NoError(t, err)
	r.now = func() time.Time { return fixedNow }
	return r
}

// trusting is a Verify that accepts every package, signed by "test-key".
func trusting(*vitplug.Package, string) ([]string, error) { return []string{"test-key"}, nil }

// install installs path with opts, Verify defaulting to trusting.
func install(t testing.TB, r *Registry, path string, opts InstallOptions) *Entry {
	t.Helper()
	if opts.Verify == nil {
		opts.Verify = trusting
	}
	e, err := r.Install(context.Background(), path, opts)
	require.NoError(t, err)
	return e
}

// snapshot is everything a registry folder holds.
type snapshot struct {
	Index string
	// Files are the other files, with their sizes: the store and any
	// temporary file.
	Files []string
}

func snap(t testing.TB, dir string) snapshot {
	t.Helper()
	var s snapshot
	data, err := os.ReadFile(filepath.Join(dir, indexName))
	if err == nil {
		s.Index = string(data)
	} else {
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() || rel == indexName || rel == lockName {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		s.Files = append(s.Files, fmt.Sprintf("%s %d", filepath.ToSlash(rel), fi.Size()))
		return nil
	})
	require.NoError(t, err)
	slices.Sort(s.Files)
	return s
}

// temps lists the temporary files left in the registry dir.
func temps(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, d := range []string{dir, filepath.Join(dir, storeDir)} {
		ents, err := os.ReadDir(d)
		require.NoError(t, err)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// names returns the name@version of entries.
func names(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name+"@"+e.Version)
	}
	return out
}

package oci_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/oci"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// makePackage packs a plugin name version with a file of pad random bytes
// (incompressible) into dir and returns its path.
func makePackage(t testing.TB, dir, name, version string, pad int) string {
	t.Helper()
	src := filepath.Join(dir, name+"-"+version+"-src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "files"), 0o755))
	toml := "[plugin]\nname = \"" + name + "\"\nversion = \"" + version + "\"\nkind = \"wasm\"\nmodule = \"p.wasm\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(src, "plugin.toml"), []byte(toml), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "p.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	b := make([]byte, pad)
	rand.Read(b)
	require.NoError(t, os.WriteFile(filepath.Join(src, "files", "pad.bin"), b, 0o644))
	out := filepath.Join(dir, name+"-"+version+".vitplug")
	_, err := vitplug.PackFile(src, out, vitplug.Limits{})
	require.NoError(t, err)
	return out
}

func mustRef(t testing.TB, s string) oci.Reference {
	t.Helper()
	r, err := oci.ParseReference(s)
	require.NoError(t, err)
	return r
}

// snapshot lists every file under dir with its size and contents' first
// bytes: what "unchanged" means for the cache.
func snapshot(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) && p == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %d %s", rel, len(data), digestHex(data)))
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

func digestHex(b []byte) string {
	d := strings.TrimPrefix(oci.Digest(b), "sha256:")
	return d
}

var bg = context.Background()

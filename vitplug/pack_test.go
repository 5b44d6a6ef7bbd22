package vitplug_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// writeTree writes files, keyed by '/'-separated path, under dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
}

// pluginDir writes a plugin folder with the minimal manifest, a module and
// the extra files, and returns its path.
func pluginDir(t testing.TB, extra map[string]string) string {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"plugin.toml": minimalManifest, "hello.wasm": string(wasmHeader)})
	writeTree(t, dir, extra)
	return dir
}

func pack(t testing.TB, dir string) (*vitplug.Package, []byte) {
	t.Helper()
	var b bytes.Buffer
	p, err := vitplug.Pack(dir, &b, vitplug.Limits{})
	require.NoError(t, err)
	return p, b.Bytes()
}

func TestPack(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"files/data.json":     "{}\n",
		"files/sub/.keep":     "",
		"files/zeros":         strings.Repeat("\x00", 3<<20), // stored: deflated, its ratio would be refused
		"hello.c":             "int main(void) { return 0; }\n",
		"README.md":           "# hello\n",
		".git/config":         "[core]\n",
		"_vitte/CHECKSUMS":    "stale\n",
		"build/out.wasm":      "junk",
		"files.txt":           "not under files/",
		"filesystem/x":        "not under files/",
		"src/files/ignored.c": "",
	})
	p, z := pack(t, dir)
	require.Equal(t, []string{"files/data.json", "files/sub/.keep", "files/zeros", "hello.wasm", "plugin.toml"}, p.Files())
	require.Empty(t, p.Signatures())
	require.Equal(t, wasmHeader, p.Module())
	checkPackage(t, p)

	q, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.ContentID(), q.ContentID())
	require.Equal(t, p.Files(), q.Files())
	data, ok := q.File("files/zeros")
	require.True(t, ok)
	require.Len(t, data, 3<<20)
	_, ok = q.File("hello.c")
	require.False(t, ok)

	// What was written is what WriteTo writes.
	var b bytes.Buffer
	_, err = q.WriteTo(&b)
	require.NoError(t, err)
	require.Equal(t, z, b.Bytes())
}

func TestPack_reproducible(t *testing.T) {
	files := map[string]string{"files/b.txt": "b", "files/a/c.txt": "c", "files/A.txt": "upper"}
	dir1 := pluginDir(t, files)
	dir2 := pluginDir(t, files)
	// Other timestamps and modes do not change the bytes.
	require.NoError(t, os.Chtimes(filepath.Join(dir2, "hello.wasm"), time1, time1))
	require.NoError(t, os.Chmod(filepath.Join(dir2, "files", "b.txt"), 0o600))

	_, z1 := pack(t, dir1)
	_, z1again := pack(t, dir1)
	_, z2 := pack(t, dir2)
	require.Equal(t, z1, z1again)
	require.Equal(t, z1, z2)

	// plugin.toml comes first, then the entries sorted by path.
	var names []string
	for i := 0; ; {
		j := bytes.Index(z1[i:], []byte("PK\x03\x04"))
		if j < 0 {
			break
		}
		i += j
		n := int(z1[i+26]) | int(z1[i+27])<<8
		names = append(names, string(z1[i+30:i+30+n]))
		i += 30
	}
	require.Equal(t, []string{"plugin.toml", "_vitte/CHECKSUMS", "files/A.txt", "files/a/c.txt", "files/b.txt", "hello.wasm"}, names)
}

func TestPack_Errors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		setup func(t *testing.T, dir string)
		lim   vitplug.Limits
		err   error
		entry string
	}{
		{name: "manifest missing", setup: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "plugin.toml"))) },
			err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "manifest invalid", files: map[string]string{"plugin.toml": "[plugin]\nname = 1\n"}, err: vitplug.ErrManifest, entry: "plugin.toml"},
		{name: "module missing", setup: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "hello.wasm"))) },
			err: vitplug.ErrModule, entry: "hello.wasm"},
		{name: "module unsafe name", files: map[string]string{"plugin.toml": strings.Replace(minimalManifest, "hello.wasm", "my module.wasm", 1)},
			err: vitplug.ErrUnsafePath, entry: "my module.wasm"},
		{name: "module reserved", files: map[string]string{"plugin.toml": strings.Replace(minimalManifest, "hello.wasm", "_vitte/hello.wasm", 1)},
			err: vitplug.ErrReserved, entry: "_vitte/hello.wasm"},
		{name: "module is a folder", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "hello.wasm")))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "hello.wasm"), 0o755))
		}, err: vitplug.ErrNotRegular, entry: "hello.wasm"},
		{name: "module symlink", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, "hello.wasm"), filepath.Join(dir, "real.wasm")))
			require.NoError(t, os.Symlink("real.wasm", filepath.Join(dir, "hello.wasm")))
		}, err: vitplug.ErrNotRegular, entry: "hello.wasm"},
		{name: "module symlink out of the folder", setup: func(t *testing.T, dir string) {
			out := filepath.Join(t.TempDir(), "secret.wasm")
			require.NoError(t, os.WriteFile(out, wasmHeader, 0o644))
			require.NoError(t, os.Remove(filepath.Join(dir, "hello.wasm")))
			require.NoError(t, os.Symlink(out, filepath.Join(dir, "hello.wasm")))
		}, err: vitplug.ErrNotRegular, entry: "hello.wasm"},
		{name: "manifest symlink", setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Rename(filepath.Join(dir, "plugin.toml"), filepath.Join(dir, "real.toml")))
			require.NoError(t, os.Symlink("real.toml", filepath.Join(dir, "plugin.toml")))
		}, err: vitplug.ErrNotRegular, entry: "plugin.toml"},
		{name: "symlink under files", files: map[string]string{"files/a.txt": "a"}, setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "files", "passwd")))
		}, err: vitplug.ErrNotRegular, entry: "files/passwd"},
		{name: "folder symlink under files", files: map[string]string{"files/a.txt": "a"}, setup: func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(dir, "files", "elsewhere")))
		}, err: vitplug.ErrNotRegular, entry: "files/elsewhere"},
		{name: "files is a symlink", setup: func(t *testing.T, dir string) {
			other := t.TempDir()
			writeTree(t, other, map[string]string{"a.txt": "a"})
			require.NoError(t, os.Symlink(other, filepath.Join(dir, "files")))
		}, err: vitplug.ErrNotRegular, entry: "files"},
		{name: "files is a file", files: map[string]string{"files": "x"}, err: vitplug.ErrNotRegular, entry: "files"},
		{name: "unsafe name under files", files: map[string]string{"files/a b.txt": "x"}, err: vitplug.ErrUnsafePath, entry: "files/a b.txt"},
		{name: "non-ASCII name under files", files: map[string]string{"files/caf\u00e9": "x"}, err: vitplug.ErrUnsafePath, entry: "files/caf\u00e9"},
		{name: "names differing by case", files: map[string]string{"files/a.txt": "a", "files/A.TXT": "b"}, err: vitplug.ErrDuplicate, entry: "files/a.txt"},
		{name: "too many entries", files: map[string]string{"files/a": "a"}, lim: vitplug.Limits{MaxEntries: 3}, err: vitplug.ErrTooLarge, entry: "files/a"},
		{name: "too large", files: map[string]string{"files/a": strings.Repeat("a", 100)}, lim: vitplug.Limits{MaxSize: 100}, err: vitplug.ErrTooLarge, entry: "files/a"},
		{name: "too large with CHECKSUMS", lim: vitplug.Limits{MaxSize: int64(len(minimalManifest) + len(wasmHeader) + 10)}, err: vitplug.ErrTooLarge, entry: "_vitte/CHECKSUMS"},
		{name: "manifest too large", files: map[string]string{"plugin.toml": minimalManifest + strings.Repeat("#", 1<<20)}, err: vitplug.ErrTooLarge, entry: "plugin.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := pluginDir(t, tc.files)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			var b bytes.Buffer
			p, err := vitplug.Pack(dir, &b, tc.lim)
			require.Nil(t, p)
			require.ErrorIs(t, err, tc.err)
			var ee *vitplug.EntryError
			require.True(t, errors.As(err, &ee), "%v", err)
			if tc.name == "names differing by case" {
				require.Contains(t, []string{"files/a.txt", "files/A.TXT"}, ee.Entry)
			} else {
				require.Equal(t, tc.entry, ee.Entry)
			}
			require.True(t, strings.HasPrefix(err.Error(), "pack "+dir+": entry "), err.Error())
			require.Zero(t, b.Len(), "Pack wrote something before failing")
		})
	}
}

func TestPack_missingFolder(t *testing.T) {
	_, err := vitplug.Pack(filepath.Join(t.TempDir(), "nope"), &bytes.Buffer{}, vitplug.Limits{})
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestPack_moduleUnderFiles(t *testing.T) {
	dir := pluginDir(t, map[string]string{
		"plugin.toml":          strings.Replace(minimalManifest, "hello.wasm", "files/bin/hello.wasm", 1),
		"files/bin/hello.wasm": string(wasmHeader),
		"files/a.txt":          "a",
	})
	p, _ := pack(t, dir)
	require.Equal(t, []string{"files/a.txt", "files/bin/hello.wasm", "plugin.toml"}, p.Files())
	require.Equal(t, wasmHeader, p.Module())
}

func TestPackFile(t *testing.T) {
	dir := pluginDir(t, map[string]string{"files/a.txt": "a"})
	outDir := t.TempDir()
	out := filepath.Join(outDir, "hello-0.1.0.vitplug")
	p, err := vitplug.PackFile(dir, out, vitplug.Limits{})
	require.NoError(t, err)
	fi, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	q, err := vitplug.OpenFile(out, vitplug.Limits{})
	require.NoError(t, err)
	require.Equal(t, p.ContentID(), q.ContentID())
	_, z := pack(t, dir)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, z, written)

	// A failed pack leaves the previous file alone and no temporary file.
	require.NoError(t, os.Remove(filepath.Join(dir, "hello.wasm")))
	_, err = vitplug.PackFile(dir, out, vitplug.Limits{})
	require.ErrorIs(t, err, vitplug.ErrModule)
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, written, after)
	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	require.Len(t, entries, 1)

	// The output inside files/ is never packed into itself.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.wasm"), wasmHeader, 0o644))
	self := filepath.Join(dir, "files", "self.vitplug")
	p, err = vitplug.PackFile(dir, self, vitplug.Limits{})
	require.NoError(t, err)
	require.NotContains(t, p.Files(), "files/self.vitplug")
}

func TestOpenFile_Errors(t *testing.T) {
	_, err := vitplug.OpenFile(filepath.Join(t.TempDir(), "nope.vitplug"), vitplug.Limits{})
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = vitplug.OpenFile(t.TempDir(), vitplug.Limits{})
	require.ErrorIs(t, err, vitplug.ErrNotRegular)

	bad := filepath.Join(t.TempDir(), "bad.vitplug")
	require.NoError(t, os.WriteFile(bad, validZip(t, file("../evil", "x")), 0o644))
	_, err = vitplug.OpenFile(bad, vitplug.Limits{})
	require.ErrorIs(t, err, vitplug.ErrUnsafePath)
	require.Equal(t, "open package "+bad+`: entry "../evil": unsafe path: ".." segment`, err.Error())
}

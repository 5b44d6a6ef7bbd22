package python

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKey_MatchesBuildScript: build.sh and the runtime agree on where the
// interpreter of these inputs lives.
func TestKey_MatchesBuildScript(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3.11"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("build.sh needs /usr/bin/python3.11: %v", err)
		}
		t.Skipf("build.sh needs /usr/bin/python3.11: %v", err)
	}
	cache := t.TempDir()
	cmd := exec.Command("bash", "build.sh", "--print-dir")
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, EnvDir+"=")
	out, err := cmd.Output()
	require.NoError(t, err)
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv(EnvDir, "")
	dir, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(cache, "vitte", "python", Key()), dir)
	assert.Equal(t, dir, strings.TrimSpace(string(out)))
	assert.Len(t, Key(), 16)
}

func TestDefaultDir_Env(t *testing.T) {
	t.Setenv(EnvDir, "/opt/py")
	dir, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, "/opt/py", dir)
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	_, err := Find(dir)
	require.ErrorIs(t, err, ErrNotBuilt)
	assert.ErrorContains(t, err, "no python.wasm")
	assert.ErrorContains(t, err, "vitte plugin runtime install python")
	require.NoError(t, os.WriteFile(filepath.Join(dir, ModuleFile), nil, 0o644))
	_, err = Find(dir)
	assert.ErrorContains(t, err, "no lib/python311.zip")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, StdlibZip), 0o755)) // a folder, not a file
	_, err = Find(dir)
	require.ErrorIs(t, err, ErrNotBuilt)
	require.NoError(t, os.Remove(filepath.Join(dir, StdlibZip)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, StdlibZip), nil, 0o644))
	got, err := Find(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, ModuleFile), got)
}

// module builds a minimal module with the given sections (id, body).
func module(sections ...[]byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		m = append(m, s...)
	}
	return m
}

func custom(name, content string) []byte {
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, content...)
	return append([]byte{0, byte(len(body))}, body...)
}

func TestModuleInfo(t *testing.T) {
	tests := []struct {
		name, err string
		module    []byte
		want      Info
	}{
		{name: "found", module: module(custom("name", "x"), custom(SectionName, "cpython=3.11.2\ndebian-source=python3.11 3.11.2-6+deb12u8\n")),
			want: Info{{"cpython", "3.11.2"}, {"debian-source", "python3.11 3.11.2-6+deb12u8"}}},
		{name: "empty value", module: module(custom(SectionName, "a=\n")), want: Info{{"a", ""}}},
		{name: "missing", module: module(custom("name", "x")), err: `no custom section "vitte:python"`},
		{name: "not wasm", module: []byte("\x7fELF"), err: "not a WebAssembly module"},
		{name: "truncated section", module: module([]byte{1, 10, 0}), err: "size 10 past the end"},
		{name: "bad leb", module: module([]byte{0, 0x80, 0x80, 0x80, 0x80, 0x80}), err: "LEB128"},
		{name: "bad name", module: module([]byte{0, 2, 5, 'a'}), err: "bad name"},
		{name: "not key=value", module: module(custom(SectionName, "novalue\n")), err: `line 1: "novalue" is not a key=value line`},
		{name: "empty key", module: module(custom(SectionName, "=x\n")), err: "is not a key=value line"},
		{name: "control character", module: module(custom(SectionName, "a=\x01\n")), err: "is not a key=value line"},
		{name: "invalid UTF-8", module: module(custom(SectionName, "a=\xff\n")), err: "is not a key=value line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ModuleInfo(tc.module)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, "3.11.2", Info{{"cpython", "3.11.2"}}.Get("cpython"))
	assert.Equal(t, "", Info{}.Get("cpython"))
}

func TestParseInfo_TooLarge(t *testing.T) {
	_, err := ParseInfo([]byte(strings.Repeat("a=b\n", 2000)))
	assert.ErrorContains(t, err, "over 4096")
}

func FuzzModuleInfo(f *testing.F) {
	f.Add(module(custom(SectionName, "cpython=3.11.2\n")))
	f.Add(module([]byte{1, 10, 0}))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\x05\x04abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ModuleInfo(b)
		if err != nil {
			return
		}
		for _, kv := range info {
			if kv.Key == "" || strings.ContainsAny(kv.Key+kv.Value, "\n\x00") {
				t.Fatalf("bad entry %q", kv)
			}
		}
	})
}

package vitte_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/adapters/vitte"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/errors")

// TestCompile_Errors compiles each testdata/errors/<class>.vit, one file per
// class of error, and compares every diagnostic with <class>.golden.
// Rewrite the golden files with go test -run TestCompile_Errors -update.
func TestCompile_Errors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.vit"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".vit")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			_, err = vitte.Compile(filepath.Base(file), src)
			require.Error(t, err)
			var ce *vitte.Error
			require.True(t, errors.As(err, &ce), "error %v is not a *vitte.Error", err)
			require.Len(t, ce.Unwrap(), len(ce.Diagnostics))
			for _, d := range ce.Diagnostics {
				require.True(t, strings.HasPrefix(d.Error(), filepath.Base(file)+":"), d.Error())
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".vit") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
		})
	}
}

// TestBuildFile_NotASourceFile: a source that is not a regular file of at
// most MaxSourceSize bytes is refused before it is compiled, and no folder
// is written.
func TestBuildFile_NotASourceFile(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.vit")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, vitte.MaxSourceSize+1))
	folder := filepath.Join(dir, "folder.vit")
	require.NoError(t, os.Mkdir(folder, 0o700))

	for _, tc := range []struct{ name, path, msg string }{
		{"too large", huge, "read source: " + huge + " is 1048577 bytes, over the limit of 1048576 bytes"},
		{"folder", folder, "read source: " + folder + " is not a regular file (folder)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out")
			_, _, err := vitte.BuildFile(tc.path, out)
			require.EqualError(t, err, tc.msg)
			var ce *vitte.Error
			require.False(t, errors.As(err, &ce), "not a compile error")
			require.NoDirExists(t, out)
		})
	}
}

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

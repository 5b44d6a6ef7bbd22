package manifest_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

var update = flag.Bool("update", false, "rewrite the .err files of the spec vectors from the current output")

// specDir holds the vectors of docs/spec/manifest-v1.md: each NAME.toml comes
// with NAME.err, the exact error text Parse must give for it when read as
// "plugin.toml", or an empty file when it is valid.
const specDir = "../testdata/spec/manifest-v1"

func TestSpecVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(specDir, "*.toml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".toml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			errFile := strings.TrimSuffix(file, ".toml") + ".err"

			m, err := manifest.Parse(manifest.FileName, data)
			got := ""
			if err != nil {
				got = err.Error() + "\n"
				var merr *manifest.Error
				require.True(t, errors.As(err, &merr), "error is not a *manifest.Error")
				require.Nil(t, m)
			} else {
				require.NoError(t, m.Validate(), "a parsed manifest must validate")
			}
			if *update {
				require.NoError(t, os.WriteFile(errFile, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(errFile)
			require.NoError(t, err, "every vector needs a .err file (empty when valid)")
			require.Equal(t, string(want), got)
		})
	}
}

package vitplug_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

var update = flag.Bool("update", false, "rewrite the spec vectors of testdata/spec/package-v1 and their .err and .id files")

// specDir holds the vectors of docs/spec/package-v1.md, "The archive": each
// NAME.vitplug comes with NAME.err, the exact error text Open gives for it
// with the default limits, or an empty file when it is valid; a valid one
// also comes with NAME.id, its content id.
const specDir = "../testdata/spec/package-v1"

// TestGenerateVectors writes the vectors from archiveCases, those that are
// small and need no other limits than the defaults:
//
//	go test ./vitplug -run 'TestGenerateVectors|TestSpecVectors' -update
func TestGenerateVectors(t *testing.T) {
	if !*update {
		t.Skip("the vectors are rewritten with -update")
	}
	old, err := filepath.Glob(filepath.Join(specDir, "*.vitplug"))
	require.NoError(t, err)
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}
	require.NoError(t, os.MkdirAll(specDir, 0o755))
	for _, tc := range archiveCases() {
		if tc.notVector || tc.lim != (vitplug.Limits{}) {
			continue
		}
		z := tc.zip(t)
		require.Less(t, len(z), 16<<10, "vector %s is too large", tc.name)
		require.NoError(t, os.WriteFile(filepath.Join(specDir, tc.name+".vitplug"), z, 0o644))
	}
}

func TestSpecVectors(t *testing.T) {
	if *update {
		for _, ext := range []string{"*.err", "*.id"} {
			old, err := filepath.Glob(filepath.Join(specDir, ext))
			require.NoError(t, err)
			for _, f := range old {
				require.NoError(t, os.Remove(f))
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(specDir, "*.vitplug"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".vitplug")
		t.Run(name, func(t *testing.T) {
			if !*update {
				t.Parallel()
			}
			z, err := os.ReadFile(file)
			require.NoError(t, err)
			base := strings.TrimSuffix(file, ".vitplug")

			p, err := vitplug.Open(bytes.NewReader(z), int64(len(z)), vitplug.Limits{})
			got := ""
			if err != nil {
				got = err.Error() + "\n"
				require.Nil(t, p)
				n := 0
				for _, s := range sentinels {
					if errors.Is(err, s) {
						n++
					}
				}
				require.Equal(t, 1, n, "%v wraps %d sentinels", err, n)
				require.Equal(t, strings.HasPrefix(name, "valid-"), false, "a valid- vector is refused")
			} else {
				require.True(t, strings.HasPrefix(name, "valid-"), "an invalid vector is accepted")
				checkPackage(t, p)
			}
			if *update {
				require.NoError(t, os.WriteFile(base+".err", []byte(got), 0o644))
				if p != nil {
					require.NoError(t, os.WriteFile(base+".id", []byte(p.ContentID()+"\n"), 0o644))
				}
				return
			}
			want, err := os.ReadFile(base + ".err")
			require.NoError(t, err, "every vector needs a .err file (empty when valid)")
			require.Equal(t, string(want), got)
			if p != nil {
				id, err := os.ReadFile(base + ".id")
				require.NoError(t, err, "every valid vector needs a .id file")
				require.Equal(t, string(id), p.ContentID()+"\n")
			}
		})
	}
}

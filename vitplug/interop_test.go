package vitplug_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// TestOpen_interop opens packages written by other ZIP tools (see
// testdata/interop/README.md): the ZIP profile Open reads must not refuse
// what common writers produce.
func TestOpen_interop(t *testing.T) {
	dir := pluginDir(t, map[string]string{"files/a.txt": "a\n", "files/sub/b.json": "{}\n"})
	want, _ := pack(t, dir)
	require.Equal(t, "h1:2YPwqwpXNAwi0dfCJ7CUtegBEu6CxgaD4LG95WJkVeE=", want.ContentID())

	files, err := filepath.Glob("testdata/interop/*.vitplug")
	require.NoError(t, err)
	require.Len(t, files, 4)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			p, err := vitplug.OpenFile(file, vitplug.Limits{})
			require.NoError(t, err)
			require.Equal(t, want.ContentID(), p.ContentID())
			require.Equal(t, want.Files(), p.Files())
			checkPackage(t, p)
		})
	}
}

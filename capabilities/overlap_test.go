package capabilities_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/capabilities"
	"github.com/vitte-lang/vitte-plugin/manifest"
)

func TestSet_MountWarnings(t *testing.T) {
	tmp := t.TempDir()
	data, other := filepath.Join(tmp, "data"), filepath.Join(tmp, "other")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	require.NoError(t, os.Mkdir(other, 0o755))
	require.NoError(t, os.Symlink(data, filepath.Join(tmp, "alias")))
	rw, ro := manifest.ReadWrite, manifest.ReadOnly
	m := func(guest, host string, mode manifest.Mode) capabilities.Mount {
		return capabilities.Mount{Guest: guest, Host: host, Mode: mode}
	}
	tests := []struct {
		name   string
		mounts []capabilities.Mount
		want   []string
	}{
		{"apart", []capabilities.Mount{m("/data", data, rw), m("/ro", other, ro)}, nil},
		{"nested, same mode", []capabilities.Mount{m("/data", data, rw), m("/data/sub", other, rw)}, nil},
		{"same host folder, same mode", []capabilities.Mount{m("/a", data, ro), m("/b", data, ro)}, nil},
		{"guest path inside, rw then ro", []capabilities.Mount{m("/data", data, rw), m("/data/sub", other, ro)}, []string{
			"fs /data/sub (ro) is inside fs /data (rw) in the guest: through /data's descriptor the guest reaches " + filepath.Join(data, "sub") + " in mode rw",
		}},
		{"guest path inside, ro then rw", []capabilities.Mount{m("/data", other, ro), m("/data/sub", data, rw)}, []string{
			"fs /data/sub (rw) is inside fs /data (ro) in the guest: through /data's descriptor the guest reaches " + filepath.Join(other, "sub") + " in mode ro",
		}},
		{"a prefix that is no parent", []capabilities.Mount{m("/data", data, rw), m("/database", other, ro)}, nil},
		{"same host folder", []capabilities.Mount{m("/a", data, ro), m("/b", data, rw)}, []string{
			"fs /a (ro) and fs /b (rw) share host files (" + data + " and " + data + "): what /a shows read-only is writable through /b",
		}},
		{"host folder inside", []capabilities.Mount{m("/a", data, rw), m("/b", filepath.Join(data, "sub"), ro)}, []string{
			"fs /b (ro) and fs /a (rw) share host files (" + filepath.Join(data, "sub") + " and " + data + "): what /b shows read-only is writable through /a",
		}},
		{"host folder through a symbolic link", []capabilities.Mount{m("/a", filepath.Join(tmp, "alias"), rw), m("/b", filepath.Join(data, "sub"), ro)}, []string{
			"fs /b (ro) and fs /a (rw) share host files (" + filepath.Join(data, "sub") + " and " + filepath.Join(tmp, "alias") + "): what /b shows read-only is writable through /a",
		}},
		{"both at once", []capabilities.Mount{m("/data", data, rw), m("/data/sub", filepath.Join(data, "sub"), ro)}, []string{
			"fs /data/sub (ro) is inside fs /data (rw) in the guest: through /data's descriptor the guest reaches " + filepath.Join(data, "sub") + " in mode rw",
			"fs /data/sub (ro) and fs /data (rw) share host files (" + filepath.Join(data, "sub") + " and " + data + "): what /data/sub shows read-only is writable through /data",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &capabilities.Set{Mounts: tt.mounts}
			assert.Equal(t, tt.want, s.MountWarnings())
		})
	}
}

package capabilities

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

// MountWarnings describes the mounts of s that overlap with different
// modes, where the stricter mode does not hold:
//
//   - one guest path inside another ("/data" rw and "/data/sub" ro): the
//     guest's C library and Go's os package send /data/sub/x to the
//     /data/sub mount, but a guest naming sub/x relative to /data's
//     descriptor reaches /data's own host folder, in /data's mode;
//   - one host folder inside another, or the same one, granted ro at one
//     guest path and rw at another: what the read-only mount shows is
//     writable through the read-write one.
//
// Each mount is still confined to its own host folder; the warnings say
// where a read-only grant is weaker than it looks. Host folders are
// compared after resolving symbolic links when they exist. The runtime
// logs each warning at load, and `vitte plugin info` lists them.
func (s *Set) MountWarnings() []string {
	var out []string
	hosts := make([]string, len(s.Mounts))
	for i, m := range s.Mounts {
		hosts[i] = m.Host
		if h, err := filepath.EvalSymlinks(m.Host); err == nil {
			hosts[i] = h
		}
	}
	for i, a := range s.Mounts {
		for j, b := range s.Mounts {
			if i == j || a.Mode == b.Mode {
				continue
			}
			if a.Guest != b.Guest && strings.HasPrefix(b.Guest, strings.TrimSuffix(a.Guest, "/")+"/") {
				out = append(out, fmt.Sprintf("fs %s (%s) is inside fs %s (%s) in the guest: through %s's descriptor the guest reaches %s in mode %s",
					b.Guest, b.Mode, a.Guest, a.Mode, a.Guest, filepath.Join(a.Host, strings.TrimPrefix(b.Guest, a.Guest)), a.Mode))
			}
			if j > i && (hosts[i] == hosts[j] || within(hosts[i], hosts[j]) || within(hosts[j], hosts[i])) {
				ro, rw := a, b
				if ro.Mode != manifest.ReadOnly {
					ro, rw = b, a
				}
				out = append(out, fmt.Sprintf("fs %s (ro) and fs %s (rw) share host files (%s and %s): what %s shows read-only is writable through %s",
					ro.Guest, rw.Guest, ro.Host, rw.Host, ro.Guest, rw.Guest))
			}
		}
	}
	return out
}

// within reports whether the host path p is inside dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

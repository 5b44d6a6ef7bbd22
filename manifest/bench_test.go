package manifest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vitte-lang/vitte-plugin/manifest"
)

func BenchmarkParse(b *testing.B) {
	example, err := os.ReadFile(specDir + "/spec-example.toml")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"spec example", example},
		// Hostile: 1MiB of one dotted key, half a million nested tables.
		{"dotted key 1MiB", []byte(strings.Repeat("a.", (manifest.MaxFileSize-10)/2) + "a = 1\n")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = manifest.Parse("", bc.data)
			}
		})
	}
}

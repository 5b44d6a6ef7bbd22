package registry

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkInstall installs one package in an empty registry: read and
// check the package, take the lock, store it, write the index (two
// files synced, two folders synced).
func BenchmarkInstall(b *testing.B) {
	path := pack(b, b.TempDir(), spec{name: "hello", version: "1.0.0"})
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		r := openTest(b, b.TempDir())
		b.StartTimer()
		if _, err := r.Install(ctx, path, InstallOptions{Verify: trusting}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenLoadOrder opens a registry of 20 plugins, each depending
// on the one before, and computes their load order: what a host does at
// start-up.
func BenchmarkOpenLoadOrder(b *testing.B) {
	pkgs, dir := b.TempDir(), b.TempDir()
	r := openTest(b, dir)
	for i := range 20 {
		s := spec{name: fmt.Sprintf("p%02d", i), version: "1.0.0"}
		if i > 0 {
			s.deps = map[string]string{fmt.Sprintf("p%02d", i-1): "^1.0.0"}
		}
		install(b, r, pack(b, pkgs, s), InstallOptions{})
	}
	for b.Loop() {
		r, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		order, err := r.LoadOrder()
		if err != nil || len(order) != 20 {
			b.Fatal(err, len(order))
		}
	}
}

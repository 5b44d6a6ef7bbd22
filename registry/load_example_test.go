package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/registry"
	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/vitplug"
)

// An application loads every enabled plugin, dependencies first, each with
// the grants its user approved, and hears of later installs and removals.
func Example_loadAll() {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "registry-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	reg, err := registry.Open(filepath.Join(tmp, "home"))
	if err != nil {
		panic(err)
	}
	cancel := reg.Subscribe(func(e registry.Event) { fmt.Println("event:", e.Kind, e.Entry.Name) })
	defer cancel()
	verify := func(*vitplug.Package, string) ([]string, error) { return nil, nil } // trust.Verify in real life
	if _, err := reg.Install(ctx, packHello(tmp, "1.0.0", `host = ["test.*"]`), registry.InstallOptions{
		Grants: registry.GrantRecord{Host: []string{"test.*"}},
		Verify: verify,
	}); err != nil {
		panic(err)
	}

	rt, err := runtime.New(ctx, runtime.NewConfig().WithStdout(os.Stdout))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	order, err := reg.LoadOrder()
	if err != nil {
		panic(err)
	}
	for _, e := range order {
		pkg, err := reg.Package(e.Name)
		if err != nil {
			panic(err)
		}
		p, err := rt.LoadPackage(ctx, pkg, runtime.NewLoadConfig().WithGrants(e.Grants.Grants()))
		if err != nil {
			panic(err)
		}
		out, _ := p.Call(ctx, "greet", []byte(e.Name))
		fmt.Println(string(out))
	}
	// Output:
	// event: installed hello
	// hello-c: loaded
	// Hello, hello!
	// hello-c: unloaded
}

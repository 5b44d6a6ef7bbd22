package watch_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vitte-lang/vitte-plugin/runtime"
	"github.com/vitte-lang/vitte-plugin/watch"
)

// Reload a plugin folder on every save.
func ExamplePath() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "hello")
	defer os.RemoveAll(dir)
	for _, f := range []string{"plugin.toml", "hello-c.wasm"} {
		b, _ := os.ReadFile(filepath.Join("..", "testdata", "wasm", "hello-c", f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	rl, err := rt.LoadReloadable(ctx, dir, runtime.NewLoadConfig())
	if err != nil {
		panic(err)
	}
	defer rl.Close(context.Background())

	ready, reloaded := make(chan struct{}), make(chan error)
	go watch.Path(ctx, rl, dir, watch.Options{
		Watching: func() { close(ready) },
		Report:   func(err error) { reloaded <- err },
	})
	<-ready

	toml, _ := os.ReadFile(filepath.Join(dir, "plugin.toml"))
	os.WriteFile(filepath.Join(dir, "plugin.toml"), bytes.Replace(toml, []byte(`"Hello"`), []byte(`"Hej"`), 1), 0o644)
	fmt.Println("reload:", <-reloaded)
	out, _ := rl.Call(ctx, "greet", []byte("world"))
	fmt.Println(string(out))
	// Output:
	// reload: <nil>
	// Hej, world!
}

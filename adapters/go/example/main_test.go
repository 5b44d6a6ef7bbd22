package main

import (
	"testing"

	"github.com/vitte-lang/vitte-plugin/adapters/go/pdk"
)

// On the host, the kit behaves as a host that grants nothing: no
// configuration, and host calls fail with pdk.ErrNoHost. The handlers' logic
// is tested here; the plugin as a whole is tested by loading example.wasm.

func TestGreet(t *testing.T) {
	out, err := Greet([]byte("Ada"))
	if err != nil || string(out) != "Hello, Ada!" {
		t.Fatalf("Greet(Ada) = %q, %v; want %q", out, err, "Hello, Ada!")
	}
	if _, err := Greet(nil); err == nil || err.Error() != "greet: empty name" {
		t.Fatalf("Greet(nil) error = %v, want greet: empty name", err)
	}
}

func TestShout(t *testing.T) {
	in := []byte("hello, World 42")
	out, err := Shout(in)
	if err != nil || string(out) != "HELLO, WORLD 42" {
		t.Fatalf("Shout = %q, %v", out, err)
	}
}

func TestVersion_noHost(t *testing.T) {
	_, err := Version(nil)
	if want := "version: " + pdk.ErrNoHost.Error(); err == nil || err.Error() != want {
		t.Fatalf("Version error = %v, want %q", err, want)
	}
}

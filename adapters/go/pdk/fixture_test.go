package pdk_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestHelloGo checks the hello-go fixture against the behaviour it shares
// with hello-c (testdata/wasm/hello-go/main.go).
func TestHelloGo(t *testing.T) {
	t.Parallel()
	runOnEachEngine(t, "hello-go", testHelloGo)
}

func testHelloGo(t *testing.T, e engine) {
	h := newTestHost(t, "hello-go", e, map[string]string{"greeting": "Bonjour"})
	if err := h.onLoad(); err != nil {
		t.Fatal(err)
	}
	if got, want := h.stdout.String(), "hello-go: loaded\n"; got != want {
		t.Errorf("on-load printed %q, want %q", got, want)
	}
	if got, want := strings.Join(h.logs, "\n"), "info: on-load called"; got != want {
		t.Errorf("on-load logged %q, want %q", got, want)
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name    string
		handler string
		input   string
		want    string
		wantErr string
		config  map[string]string
	}{
		{name: "greet", handler: "greet", input: "Ada", want: "Bonjour, Ada!"},
		{name: "greet default", handler: "greet", input: "Ada", want: "Hello, Ada!", config: map[string]string{}},
		{name: "greet empty greeting", handler: "greet", input: "Ada", want: ", Ada!", config: map[string]string{"greeting": ""}},
		{name: "greet empty input", handler: "greet", input: "", want: "Bonjour, !"},
		{name: "echo", handler: "echo", input: "héllo\x00world", want: "héllo\x00world"},
		{name: "echo empty", handler: "echo", input: "", want: ""},
		{name: "echo 1 MiB", handler: "echo", input: string(big), want: string(big)},
		{name: "fail", handler: "fail", input: "boom", wantErr: "fail: boom"},
		{name: "fail empty", handler: "fail", input: "", wantErr: "fail: "},
		{name: "empty", handler: "empty", input: "ignored", want: ""},
		{name: "call-host granted", handler: "call-host", input: "test.echo", want: "ping"},
		{name: "call-host denied", handler: "call-host", input: "other.fn", want: `error: host function "other.fn" is not granted`},
		{name: "count-vowels", handler: "count-vowels", input: "Hello, World! AEIOU xyz", want: "8"},
		{name: "count-vowels none", handler: "count-vowels", input: "", want: "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.config != nil {
				saved := h.config
				h.config = tc.config
				defer func() { h.config = saved }()
			}
			out, err := h.handle(tc.handler, []byte(tc.input))
			if tc.wantErr != "" {
				if !isErrResult(err, tc.wantErr) {
					t.Fatalf("%s(%.20q) = %.40q, %v; want error result %q", tc.handler, tc.input, out, err, tc.wantErr)
				}
				return
			}
			if err != nil || string(out) != tc.want {
				t.Fatalf("%s(%.20q) = %.40q, %v; want %.40q", tc.handler, tc.input, out, err, tc.want)
			}
		})
	}

	h.stdout.Reset()
	if err := h.onUnload(); err != nil {
		t.Fatal(err)
	}
	if got, want := h.stdout.String(), "hello-go: unloaded\n"; got != want {
		t.Errorf("on-unload printed %q, want %q", got, want)
	}
}

// TestKit_edges checks what the go-stress fixture exercises besides the
// soak: recovered panics, inputs kept across calls, http.request. It runs on
// the compiler only, which the soak test needs anyway: collecting garbage in
// the interpreter takes seconds per cycle under -race.
func TestKit_edges(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "go-stress", compiler, nil)

	t.Run("panic is an error result", func(t *testing.T) {
		h.logs = nil
		_, err := h.handle("panic", []byte("kaboom"))
		if !isErrResult(err, "panic: kaboom") {
			t.Fatalf("panic: got %v, want error result %q", err, "panic: kaboom")
		}
		if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "error: panic: kaboom\ngoroutine ") {
			t.Errorf("panic logged %q, want the panic and its stack at error", h.logs)
		}
		// The instance survives.
		if out, err := h.handle("echo", []byte("still here")); err != nil || string(out) != "still here" {
			t.Fatalf("echo after panic = %q, %v", out, err)
		}
	})

	t.Run("kept input stays valid", func(t *testing.T) {
		kept := bytes.Repeat([]byte("keep me "), 1<<15) // 256 KiB
		if _, err := h.handle("remember", kept); err != nil {
			t.Fatal(err)
		}
		garbage := make([]byte, 1<<20)
		for i := 0; i < 20; i++ { // enough garbage for several collections
			if _, err := h.handle("echo", garbage); err != nil {
				t.Fatal(err)
			}
		}
		out, err := h.handle("recall", nil)
		if err != nil || !bytes.Equal(out, kept) {
			t.Fatalf("recall = %d bytes, %v; want the %d bytes remembered", len(out), err, len(kept))
		}
	})

	t.Run("http request", func(t *testing.T) {
		out, err := h.handle("fetch", []byte("https://example.com/x"))
		want := "201 x-method=POST x-sent=accept:text/plain,x-empty: x-none= got body"
		if err != nil || string(out) != want {
			t.Fatalf("fetch = %q, %v; want %q", out, err, want)
		}
		_, err = h.handle("fetch", []byte("https://other.example/"))
		if msg := "net: https://other.example/ is not granted"; !isErrResult(err, msg) {
			t.Fatalf("fetch denied: got %v, want error result %q", err, msg)
		}
	})
}

// TestKit_reverse checks go-stress's reverse on lengths around its eight-byte
// steps: the soak test only sends 1 MiB.
func TestKit_reverse(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "go-stress", compiler, nil)
	for n := 0; n <= 33; n++ {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte('a' + i)
		}
		out, err := h.handle("reverse", in)
		want := bytes.Clone(in)
		slices.Reverse(want)
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("reverse(%q) = %q, %v", in, out, err)
		}
	}
}

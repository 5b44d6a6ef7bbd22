package pdk_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestConformance runs the same calls on plugins written three ways and
// expects the same answers: hello-go (this kit), spec-c (plain C written from
// the ABI spec alone, no kit) and hello-c (the C kit). What the Go kit does is
// therefore what the spec says, not an accident of this host.
func TestConformance(t *testing.T) {
	t.Parallel()
	plugins := []string{"hello-go", "spec-c", "hello-c"}
	big := bytes.Repeat([]byte("aeiou-xyz "), 6_554) // 64 KiB, 32,770 vowels
	calls := []struct {
		handler string
		input   []byte
		config  map[string]string
	}{
		{"greet", []byte("Ada"), map[string]string{"greeting": "Bonjour"}},
		{"greet", []byte("Ada"), nil},
		{"greet", []byte(""), map[string]string{"greeting": ""}},
		{"echo", []byte("héllo\x00world"), nil},
		{"echo", nil, nil},
		{"echo", big, nil},
		{"fail", []byte("boom"), nil},
		{"fail", nil, nil},
		{"count-vowels", []byte("Hello, World! AEIOU xyz"), nil},
		{"count-vowels", big, nil},
		{"count-vowels", nil, nil},
	}
	// answer is what one plugin said to one call.
	type answer struct {
		out   []byte
		isErr bool
	}
	answers := make(map[string][]answer)
	for _, name := range plugins {
		if _, err := os.Stat(fixture(name)); err != nil && name == "hello-c" {
			t.Logf("%s: not built, compared without it", name)
			continue
		}
		e := compiler
		if raceEnabled && name == "hello-go" {
			e = interpreter // see runOnEachEngine
		}
		h := newTestHost(t, name, e, nil)
		if err := h.onLoad(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := h.stdout.String(), name+": loaded\n"; got != want {
			t.Errorf("%s: on-load printed %q, want %q", name, got, want)
		}
		if got, want := strings.Join(h.logs, "\n"), "info: on-load called"; got != want {
			t.Errorf("%s: on-load logged %q, want %q", name, got, want)
		}
		for _, c := range calls {
			h.config = c.config
			out, err := h.handle(c.handler, c.input)
			var a answer
			switch e := err.(type) {
			case nil:
				a.out = out
			case errResult:
				a.out, a.isErr = []byte(e), true
			default:
				t.Fatalf("%s: %s: %v", name, c.handler, err)
			}
			answers[name] = append(answers[name], a)
		}
		h.stdout.Reset()
		if err := h.onUnload(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := h.stdout.String(), name+": unloaded\n"; got != want {
			t.Errorf("%s: on-unload printed %q, want %q", name, got, want)
		}
	}
	ref := answers["spec-c"]
	for name, as := range answers {
		for i, a := range as {
			if !bytes.Equal(a.out, ref[i].out) || a.isErr != ref[i].isErr {
				c := calls[i]
				t.Errorf("%s(%.20q) with config %v: %s says %s, spec-c says %s", c.handler, c.input, c.config,
					name, describe(a.out, a.isErr), describe(ref[i].out, ref[i].isErr))
			}
		}
	}
}

func describe(out []byte, isErr bool) string {
	if isErr {
		return fmt.Sprintf("error %.40q", out)
	}
	return fmt.Sprintf("ok %.40q", out)
}

// TestSpecC_memoryFlat checks that spec-c, which manages its memory by hand
// from the spec's ownership rules (inputs and returned strings are the
// guest's to free, results live until cabi_post_<name> or the next call),
// does not leak: 1 MiB calls on every handler leave its memory flat.
func TestSpecC_memoryFlat(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "spec-c", compiler, map[string]string{"greeting": "Hi"})
	input := bytes.Repeat([]byte("a"), 1<<20)
	var warm uint32
	for i := 1; i <= 400; i++ {
		fn := []string{"echo", "greet", "fail", "count-vowels"}[i%4]
		if _, err := h.handle(fn, input); err != nil && fn != "fail" {
			t.Fatalf("call %d: %s: %v", i, fn, err)
		}
		if i == 40 {
			warm = h.pages()
		}
	}
	if end := h.pages(); end > warm {
		t.Errorf("spec-c memory grew from %d pages at call 40 to %d at call 400", warm, end)
	}
}

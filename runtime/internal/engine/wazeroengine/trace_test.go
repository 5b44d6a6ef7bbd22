package wazeroengine

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vitte-lang/vitte-plugin/runtime/internal/engine"
)

// traceFrames reads the guest's frames from wazero's trace text: the
// module's own functions without the module's name and signature, source
// lines, host functions and the omission line skipped, unnamed functions
// "".
func TestTraceFrames(t *testing.T) {
	tests := []struct {
		name, msg, mod string
		want           []engine.Frame
	}{
		{"no trace", "wasm error: unreachable", "", nil},
		{"anonymous module", "wasm error: unreachable\nwasm stack trace:\n\t.leaf(i32,i32) i32\n\t.$3(i32,i32) i32\n\t.main()",
			"", []engine.Frame{{Function: "leaf"}, {Function: ""}, {Function: "main"}}},
		{"named module, DWARF lines", "wasm error: integer divide by zero\nwasm stack trace:\n\tm.div(i64,i64) i64\n\t\t./div.c:3:10\n\tm.run() (i32,i64)\n\t\t./run.c:7:1",
			"m", []engine.Frame{{Function: "div"}, {Function: "run"}}},
		{"a host function on top", "boom (recovered by wazero)\nwasm stack trace:\n\tvitte:plugin/host@1.0.0.log(i32,i32,i32)\n\t.caller(i32,i32) i32",
			"", []engine.Frame{{Function: "caller"}}},
		{"names with dots and parentheses", "wasm error: unreachable\nwasm stack trace:\n\t.std::vec::Vec<T>::push(i32)\n\t.operator()(int)(i32) i32",
			"", []engine.Frame{{Function: "std::vec::Vec<T>::push"}, {Function: "operator()(int)"}}},
		{"omitted frames", "wasm error: unreachable\nwasm stack trace:\n\t.f()\n... maybe followed by omitted frames",
			"", []engine.Frame{{Function: "f"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, traceFrames(tt.msg, tt.mod))
		})
	}
}

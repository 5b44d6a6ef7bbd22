package vitte_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vitte-lang/vitte-plugin/runtime"
)

// TestSemantics compiles small programs, each a handler run(input), loads
// them in the runtime and checks what they give.
func TestSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		with  string // the body of proc run(input: str) -> str, or whole declarations
		input string
		// expected is the output; expectedErr a guest error message;
		// expectedTrap a trap.
		expected     string
		expectedErr  string
		expectedTrap bool
		config       map[string]string
	}{
		{name: "i32 arithmetic", with: `give to_str(7 * 6 - 9 / 2 % 3 + -(4 - 10))`, expected: "47"},
		{name: "i32 wraps", with: `let x = 2147483647; give to_str(x + len(input))`, input: "a", expected: "-2147483648"},
		{name: "i64 wraps", with: `let x: i64 = 9223372036854775807; give to_str(x + len(input) as i64)`, input: "a", expected: "-9223372036854775808"},
		{name: "i64 min", with: `let x: int = -9223372036854775807 - len(input) as i64; give to_str(x)`, input: "a", expected: "-9223372036854775808"},
		{name: "itoa", with: `give str(len(input) * -1000000007) + " " + to_str(len(input) as i64 * 10000000000) + " " + to_str(len(input) - 1)`, input: "ab", expected: "-2000000014 20000000000 1"},
		{name: "division truncates", with: `let n = len(input); give format!("{} {} {} {}", -7 / n, -7 % n, 7 / n, 7 % n)`, input: "ab", expected: "-3 -1 3 1"},
		{name: "bits", with: `let n = len(input); give format!("{} {} {} {} {} {}", n & 6, n | 8, n ^ 1, n << 4, -n >> 1, !n)`, input: "abcde", expected: "4 13 4 80 -3 -6"},
		{name: "compound assignment", with: `let mut x = len(input); x += 2; x *= 10; x -= 1; x /= 3; x %= 7; x <<= 2; x |= 1; let mut s = "a"; s += "b"; give to_str(x) + s`, input: "abc", expected: "9ab"},
		{name: "f64", with: `let x = 1.5; let y: f64 = x * 4.0 - 0.5 / 2.0; let z = -y; give format!("{} {} {}", y as i64, z as i32, y > 5.0 and z <= -5.75)`, expected: "5 -5 true"},
		{name: "f64 saturates", with: `let big = 1e300; let nan = 0.0 / (len(input) as f64); give format!("{} {} {}", big as i32, -big as i64, nan as i32)`, expected: "2147483647 -9223372036854775808 0"},
		{name: "casts", with: `let b = len(input) > 1; give format!("{} {} {}", b as i32 + 1, (300 + len(input)) as i64, (len(input) as f64 / 4.0 * 100.0) as i32)`, input: "ab", expected: "2 302 50"},
		{name: "int literal takes f64", with: `let x: f64 = 3; give to_str((x * 2) as i32)`, expected: "6"},
		{name: "concat and compare", with: `if "abc" < "abd" and "b" > "abc" and input == "x" and input != "xy" and "" < "a" and "ab" >= "ab" { give "yes" } give "no"`, input: "x", expected: "yes"},
		{name: "reverse bytes", with: `let mut out = ""; let mut i = len(input); while i > 0 { set i = i - 1; set out = out + slice(input, i, i + 1) } give out`, input: "stressed", expected: "desserts"},
		{name: "for range continue break", with: `let mut sum = 0; for i in 0..10 { if i == 3 { continue } if i == 8 { break } sum += i } give to_str(sum)`, expected: "25"},
		{name: "for variable is rebound each iteration", with: `let mut n = 0; for i in 0..5 { n += i; set i = 100 } give to_str(n)`, expected: "10"},
		{name: "for inclusive range at the end", with: `let mut n = 0; for i in 2147483646..=2147483647 { n += 1 } give to_str(n)`, expected: "2"},
		{name: "for range i64", with: `let mut s: i64 = 0; for i in 0..100000i64 { s += i } give to_str(s)`, expected: "4999950000"},
		{name: "for bytes", with: `let mut out = ""; for c in input { if c >= 'a' and c <= 'z' { out += from_byte(c - 32) } else { out += from_byte(c) } } give out`, input: "héllo, w!", expected: "HéLLO, W!"},
		{name: "loop", with: `let mut i = 0; loop { i += 1; if i * i > 50 { give to_str(i) } }`, expected: "8"},
		{name: "nested loops", with: `let mut n = 0; let mut i = 0; while i < 5 { let mut j = 0; while true { j += 1; if j > i { break } n += 1 } i += 1 } give to_str(n)`, expected: "10"},
		{name: "short circuit", with: `if len(input) > 0 and input[0] == 'a' { give "a" } if len(input) == 0 or input[0] == 'b' { give "empty or b" } give "other"`, input: "", expected: "empty or b"},
		{name: "elif else", with: `let n = len(input); if n == 0 { give "zero" } elif n == 1 { give "one" } else if n == 2 { give "two" } otherwise { give "many" }`, input: "ab", expected: "two"},
		{name: "if on next line", with: "if len(input) == 0 {\n give \"empty\"\n}\nelse {\n give \"not\"\n}", input: "x", expected: "not"},
		{name: "not and bang", with: `let e = len(input) == 0; if not e and !(len(input) > 5) { give "small" } give "other"`, input: "abc", expected: "small"},
		{name: "make", with: `make n as i64 = 5; make s = "x"; give s + to_str(n * 2)`, expected: "x10"},
		{name: "shadowing", with: `let x = 1; let x = x + len(input); { let x = 100; set x = x + 1 } give to_str(x)`, input: "abc", expected: "4"},
		{name: "escapes", with: `give "tab\there\n\"q\" \\ \u{E9}\u{1F600} \x41 \0end"`, expected: "tab\there\n\"q\" \\ é😀 A \x00end"},
		{name: "raw string", with: `give """a "raw" \n string"""`, expected: `a "raw" \n string`},
		{name: "char literals", with: `give format!("{} {} {} {}", 'a', '\n', 'é', '\u{1F600}')`, expected: "97 10 233 128512"},
		{name: "format", with: `give format!("{{{}}} {:?} {}", len(input), input == "hey", input)`, input: "hey", expected: "{3} true hey"},
		{name: "println value", with: `println(len(input)); println!("n = {}", len(input)); print("no newline"); give ""`, input: "abc", expected: ""},
		{name: "method syntax", with: `let n: i32 = input.len(); give n.to_string() + input.slice(1, 3) + to_str(input.byte_at(0))`, input: "abcd", expected: "4bc97"},
		{name: "bool to str", with: `give to_str(len(input) == 2) + str(false)`, input: "ab", expected: "truefalse"},
		{name: "empty input and output", with: `give input`, input: "", expected: ""},
		{name: "grow memory", with: `let mut s = input; for i in 0..20 { s = s + s } give to_str(len(s))`, input: "0123456789", expected: "10485760"},
		{name: "config", with: `give config("a") + "|" + config("missing") + "|" + config_or("missing", "dflt") + "|" + config_or("a", "dflt") + "|" + to_str(has_config("a")) + to_str(has_config("missing")) + to_str(has_config("empty"))`,
			config: map[string]string{"a": "A", "empty": ""}, expected: "A||dflt|A|truefalsetrue"},
		{name: "host call", with: `give host_call("test.echo", input + "!")`, input: "ping", expected: "ping!"},
		{name: "host call error propagates", with: `let x = host_call("test.fail", input); give "not reached " + x`, expectedErr: "test.fail says no"},
		{name: "host call denied", with: `give host_call("other.fn", input)`, expectedErr: `permission denied: host call "other.fn" not granted`},
		{name: "fail", with: `if len(input) > 2 { fail("too long: {}", len(input)) } give "ok"`, input: "abcd", expectedErr: "too long: 4"},
		{name: "byte out of range traps", with: `give to_str(input[len(input)])`, input: "abc", expectedTrap: true},
		{name: "negative index traps", with: `give to_str(byte_at(input, -1))`, input: "abc", expectedTrap: true},
		{name: "bad slice traps", with: `give slice(input, 2, 1)`, input: "abc", expectedTrap: true},
		{name: "from_byte range traps", with: `give from_byte(len(input) + 255)`, input: "a", expectedTrap: true},
		{name: "divide by zero traps", with: `give to_str(10 / (len(input) - 1))`, input: "a", expectedTrap: true},
		{name: "constants", with: `
const GREETING: str = "hi"
const N: i32 = 2 * 21
const BIG = 5000000000i64
const NEG: i64 = -N as i64 * 2
const ON = N > 40 and GREETING == "hi"
#[export]
proc run(input: str) -> str {
    give format!("{} {} {} {} {}", GREETING, N, BIG, NEG, ON)
}`, expected: "hi 42 5000000000 -84 true"},
		{name: "recursion", with: `
proc fact(n: i64) -> i64 {
    if n <= 1 { give 1 }
    give n * fact(n - 1)
}
#[export]
proc run(input: str) -> str {
    give to_str(fact(len(input) as i64))
}`, input: "01234567890123456789", expected: "2432902008176640000"},
		{name: "fail propagates through calls", with: `
proc deep(n: i32) -> i32 {
    if n == 0 { fail("bottom reached") }
    give deep(n - 1) + 1
}
proc middle(s: str) -> str {
    let d = deep(len(s))
    give "never " + to_str(d)
}
#[export]
proc run(input: str) -> str {
    give middle(input)
}`, input: "abc", expectedErr: "bottom reached"},
		{name: "2025 style tail expressions", with: `
fn sign(n: i32) -> i32 {
    if n < 0 { -1 } else if n == 0 { 0 } else { 1 }
}
fn double(x: i32) -> i32 { x * 2 }
#[export]
fn run(input: &str) -> String {
    let n = input.len() as i32;
    if n > 3 && !(n > 10) || false {
        return format!("{}/{}", sign(n - 5), double(n));
    }
    format!("short {}", sign(0 - n))
}`, input: "abcd", expected: "-1/8"},
		{name: "unit proc and give", with: `
proc log_twice(s: str) {
    if len(s) == 0 { give }
    log_info(s)
    log_debug(s)
}
#[export]
proc run(input: str) -> str {
    log_twice(input)
    give "done"
}`, input: "x", expected: "done"},
		{name: "handler without input", with: `
#[export]
proc run() -> str {
    give "constant"
}`, input: "ignored", expected: "constant"},
	}
	h := newHost(t)
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.with
			if !strings.Contains(src, "#[export]") {
				src = "#[export]\nproc run(input: str) -> str {\n" + src + "\n}\n"
			}
			src = "#![plugin(name = \"sem\", version = \"0.1.0\")]\n#![capabilities(host = \"test.*\")]\n" + src
			p := h.load(t, build(t, src), tc.config)
			out, err := p.Call(ctx, "run", []byte(tc.input))
			switch {
			case tc.expectedTrap:
				require.ErrorIs(t, err, runtime.ErrTrap)
			case tc.expectedErr != "":
				var ge *runtime.GuestError
				require.True(t, errors.As(err, &ge), "error %v is not a guest error", err)
				require.Equal(t, tc.expectedErr, ge.Message)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.expected, string(out))
			}
		})
	}
}

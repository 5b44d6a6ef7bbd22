package syntax

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func lex(t *testing.T, src string) ([]Token, []Diagnostic) {
	t.Helper()
	s := NewSource("t.vit", []byte(src))
	r := NewReporter(s)
	return Lex(s, r), r.Sorted()
}

// kinds renders tokens as "kind" or "kind:value" for comparison.
func kinds(toks []Token) string {
	var out []string
	for _, tk := range toks {
		switch tk.Kind {
		case Name, Int, Float:
			out = append(out, tk.Text)
		case String, Char:
			out = append(out, "<"+tk.Value+">")
		case Semi:
			if tk.Implicit {
				out = append(out, "⏎")
			} else {
				out = append(out, ";")
			}
		case EOF:
			out = append(out, "EOF")
		default:
			out = append(out, strings.Trim(tk.Kind.String(), "'"))
		}
	}
	return strings.Join(out, " ")
}

func TestLex(t *testing.T) {
	tests := []struct {
		name, with, expected string
	}{
		{name: "line ends end statements", with: "let x = 1\nset x = x + 2\n", expected: "let x = 1 ⏎ set x = x + 2 ⏎ EOF"},
		{name: "no line end after an operator", with: "let x = 1 +\n 2\n", expected: "let x = 1 + 2 ⏎ EOF"},
		{name: "no line end in parentheses", with: "f(a,\n b\n)\n", expected: "f ( a , b ) ⏎ EOF"},
		{name: "line end after a closing brace", with: "proc f() {\n}\n", expected: "proc f ( ) { } ⏎ EOF"},
		{name: "bare give and break", with: "give\nbreak\ncontinue\nreturn\n", expected: "give ⏎ break ⏎ continue ⏎ return ⏎ EOF"},
		{name: "explicit semicolons", with: "a; b;", expected: "a ; b ; EOF"},
		{name: "comments", with: "a // line\nb /* block /* nested */ */ c # hash\nd <<< zone\n >>> e", expected: "a ⏎ b c ⏎ d ⏎ e ⏎ EOF"},
		{name: "block comment spanning lines ends a statement", with: "a /*\n*/ b", expected: "a ⏎ b ⏎ EOF"},
		{name: "attributes are not comments", with: "#[export]\n#![plugin(name = \"x\")]", expected: "# [ export ] ⏎ # ! [ plugin ( name = <x> ) ] ⏎ EOF"},
		{name: "numbers", with: "0 12 1_000 0xFF 0b101 0o17 1.5 2e10 1.5e-3 7i64 3f64 0..10 1..=2", expected: "0 12 1_000 0xFF 0b101 0o17 1.5 2e10 1.5e-3 7i64 3f64 0 .. 10 1 ..= 2 ⏎ EOF"},
		{name: "strings", with: `"a\tb\n\"c\"\\ \u{E9}\x41\0" """raw \n"""`, expected: "<a\tb\n\"c\"\\ éA\x00> <raw \\n> ⏎ EOF"},
		{name: "line continuation", with: "\"one \\\n     two\"", expected: "<one two> ⏎ EOF"},
		{name: "chars", with: `'a' '\n' 'é' '\''`, expected: "<a> <\n> <é> <'> ⏎ EOF"},
		{name: "operators", with: "a <<= b >>= c == d != e <= f >= g && h || i -> j => k :: l += m", expected: "a <<= b >>= c == d != e <= f >= g && h || i -> j => k :: l += m ⏎ EOF"},
		{name: "keywords", with: "proc fn let mut set give return if elif else otherwise while loop for in and or not as true false", expected: "proc fn let mut set give return if elif else otherwise while loop for in and or not as true false ⏎ EOF"},
		{name: "unicode identifiers", with: "let café = ä", expected: "let café = ä ⏎ EOF"},
		{name: "byte order mark", with: "\uFEFFa", expected: "a ⏎ EOF"},
		{name: "unclosed parenthesis before a statement", with: "let a = (1\nlet b = 2", expected: "let a = ( 1 ⏎ let b = 2 ⏎ EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			toks, diags := lex(t, tc.with)
			require.Empty(t, diags)
			require.Equal(t, tc.expected, kinds(toks))
		})
	}
}

func TestLex_positions(t *testing.T) {
	toks, _ := lex(t, "ab\n  \"é\" c")
	require.Equal(t, Pos(0), toks[0].Pos)
	require.Equal(t, Pos(2), toks[1].Pos) // the line end
	require.Equal(t, Pos(5), toks[2].Pos)
	require.Equal(t, Pos(10), toks[3].Pos)
	s := NewSource("t.vit", []byte("ab\n  \"é\" c"))
	line, col := s.Position(toks[3].Pos)
	require.Equal(t, []int{2, 7}, []int{line, col}, "columns count characters, not bytes")
}

func TestLex_Errors(t *testing.T) {
	tests := []struct {
		name, with, expected string
	}{
		{name: "character", with: "a @ b", expected: "t.vit:1:3: unexpected character '@'"},
		{name: "control character", with: "a \x01", expected: "t.vit:1:3: unexpected control character U+0001"},
		{name: "invalid UTF-8", with: "a \xff", expected: "t.vit:1:3: invalid UTF-8 encoding"},
		{name: "invalid UTF-8 in a string", with: "\"a\xffb\"", expected: "t.vit:1:3: invalid UTF-8 encoding in string"},
		{name: "unterminated string", with: "\"abc\nx", expected: `t.vit:1:1: string not terminated: expected '"' before the end of the line (write \n for a line break, or use a """raw string""")`},
		{name: "unterminated raw string", with: `"""abc`, expected: `t.vit:1:1: string not terminated: expected """ to close the raw string opened here`},
		{name: "unterminated comment", with: "/* a", expected: "t.vit:1:1: comment not terminated: expected '*/' to close the comment opened here"},
		{name: "unterminated zone comment", with: "<<< a", expected: "t.vit:1:1: comment not terminated: expected '>>>' to close the comment opened here"},
		{name: "unknown escape", with: `"\q"`, expected: `t.vit:1:2: unknown escape \q: expected one of \n \t \r \0 \\ \" \' \x41 \u{E9}`},
		{name: "bad \\u", with: `"\u41"`, expected: `t.vit:1:2: invalid escape: expected '{' after \u, as in \u{E9}`},
		{name: "long \\u", with: `"\u{1234567}"`, expected: `t.vit:1:2: invalid escape \u{1234567}: expected 1 to 6 hexadecimal digits`},
		{name: "bad \\x", with: `"\xZZ"`, expected: `t.vit:1:2: invalid escape: expected two hexadecimal digits after \x`},
		{name: "empty char", with: "''", expected: "t.vit:1:1: empty character literal: expected one character between the quotes"},
		{name: "unterminated char", with: "'a", expected: `t.vit:1:1: character literal not terminated: expected "'" to close it`},
		{name: "hex without digits", with: "0x", expected: "t.vit:1:1: number 0x has no digits"},
		{name: "too large", with: "18446744073709551616", expected: "t.vit:1:1: integer literal 18446744073709551616 is too large: the largest is 18446744073709551615"},
		{name: "bad suffix", with: "12u8", expected: `t.vit:1:3: invalid suffix "u8" on number: expected i32, i64 or f64`},
		{name: "f64 suffix on hex", with: "0x1f64", expected: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := lex(t, tc.with)
			if tc.expected == "" {
				require.Empty(t, diags)
				return
			}
			require.NotEmpty(t, diags)
			require.Equal(t, tc.expected, diags[0].Error())
		})
	}
}

func TestDiagnostic_Format(t *testing.T) {
	s := NewSource("t.vit", []byte("x\n\tlet é = @\n"))
	r := NewReporter(s)
	r.Errorf(Pos(strings.Index(string(s.Src), "@")), "unexpected character '@'")
	d := r.Diagnostics()[0]
	require.Equal(t, 2, d.Line)
	require.Equal(t, 10, d.Col)
	require.Equal(t, "t.vit:2:10: unexpected character '@'\n    \tlet é = @\n    \t        ^", d.Format())

	long := strings.Repeat("a", 500) + "@"
	s = NewSource("t.vit", []byte(long))
	r = NewReporter(s)
	r.Errorf(Pos(500), "here")
	f := r.Diagnostics()[0].Format()
	lines := strings.Split(f, "\n")
	require.Len(t, lines, 3)
	require.Equal(t, strings.Index(lines[1], "@"), strings.Index(lines[2], "^"), "the caret is under the column in a cut line")
	require.LessOrEqual(t, len(lines[1]), maxShownLine+4)
}

func TestReporter_limit(t *testing.T) {
	_, diags := lex(t, strings.Repeat("@\n", 200))
	require.Len(t, diags, MaxErrors+1)
	require.Equal(t, "too many errors", diags[MaxErrors].Msg)
}

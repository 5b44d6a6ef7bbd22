package syntax

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lex splits src into tokens, reporting lexical errors to r and going on
// after each one. The last token is always EOF.
//
// Line ends act as statement terminators: a line end becomes an implicit
// Semi when the token before it can end a statement (an identifier, a
// literal, a closing bracket, break, continue, give, return) and the line
// is not inside parentheses or square brackets.
func Lex(src *Source, r *Reporter) []Token {
	l := &lexer{src: src.Src, r: r, newlineAt: -1}
	if strings.HasPrefix(string(l.src), "\uFEFF") {
		l.off = 3
	}
	l.run()
	return l.toks
}

type lexer struct {
	src    []byte
	r      *Reporter
	off    int
	toks   []Token
	stack  []Kind // open brackets
	spaced bool
	// newlineAt is the offset of the last line end since the last token,
	// or -1.
	newlineAt int
}

func (l *lexer) errorf(p int, format string, args ...any) {
	l.r.lexErrorf(Pos(p), format, args...)
}

// endsStatement reports whether a line end after the last token ends a
// statement.
func (l *lexer) endsStatement() bool {
	if len(l.toks) == 0 {
		return false
	}
	if n := len(l.stack); n > 0 && l.stack[n-1] != LBrace {
		return false
	}
	switch l.toks[len(l.toks)-1].Kind {
	case Name, Int, Float, String, Char, RParen, RBrack, RBrace, KwTrue, KwFalse,
		KwBreak, KwContinue, KwGive, KwReturn, Question:
		return true
	}
	return false
}

func (l *lexer) newline(p int) {
	if l.newlineAt < 0 {
		l.newlineAt = p
	}
	if l.endsStatement() {
		l.toks = append(l.toks, Token{Kind: Semi, Pos: Pos(p), End: Pos(p), Text: "\n", Implicit: true})
	}
	l.spaced = true
}

func (l *lexer) emit(k Kind, start int, value string) *Token {
	l.newlineAt = -1
	l.toks = append(l.toks, Token{Kind: k, Pos: Pos(start), End: Pos(l.off), Text: string(l.src[start:l.off]), Value: value, Spaced: l.spaced})
	l.spaced = false
	return &l.toks[len(l.toks)-1]
}

func (l *lexer) peek(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *lexer) run() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.newline(l.off)
			l.off++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.off++
			l.spaced = true
		case c == '/' && l.peek(1) == '/':
			l.lineComment()
		case c == '/' && l.peek(1) == '*':
			l.blockComment()
		case c == '#' && l.peek(1) != '[' && !(l.peek(1) == '!' && l.peek(2) == '['):
			l.lineComment()
		case c == '<' && l.peek(1) == '<' && l.peek(2) == '<':
			l.zoneComment()
		case isDigit(c):
			l.number()
		case c == '"':
			l.string()
		case c == '\'':
			l.char()
		case c < utf8.RuneSelf && (isLetter(c) || c == '_'):
			l.ident()
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(l.src[l.off:])
			switch {
			case r == utf8.RuneError && size == 1:
				l.errorf(l.off, "invalid UTF-8 encoding")
				l.off++
			case unicode.IsLetter(r):
				l.ident()
			case unicode.IsSpace(r):
				l.off += size
				l.spaced = true
			default:
				l.errorf(l.off, "unexpected character %q", r)
				l.off += size
			}
		default:
			l.operator()
		}
	}
	if l.endsStatement() {
		l.toks = append(l.toks, Token{Kind: Semi, Pos: Pos(l.off), End: Pos(l.off), Text: "\n", Implicit: true})
	}
	l.toks = append(l.toks, Token{Kind: EOF, Pos: Pos(len(l.src)), End: Pos(len(l.src))})
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (l *lexer) lineComment() {
	for l.off < len(l.src) && l.src[l.off] != '\n' {
		l.off++
	}
	l.spaced = true
}

// blockComment skips a /* */ comment; they nest. A comment that spans
// lines ends a statement like a line end.
func (l *lexer) blockComment() {
	start := l.off
	l.off += 2
	depth := 1
	newline := -1
	for l.off < len(l.src) && depth > 0 {
		switch {
		case l.src[l.off] == '/' && l.peek(1) == '*':
			depth++
			l.off += 2
		case l.src[l.off] == '*' && l.peek(1) == '/':
			depth--
			l.off += 2
		default:
			if l.src[l.off] == '\n' && newline < 0 {
				newline = l.off
			}
			l.off++
		}
	}
	if depth > 0 {
		l.errorf(start, "comment not terminated: expected '*/' to close the comment opened here")
	}
	if newline >= 0 {
		l.newline(newline)
	}
	l.spaced = true
}

// zoneComment skips a Vitte <<< ... >>> zone comment.
func (l *lexer) zoneComment() {
	start := l.off
	end := bytes.Index(l.src[l.off+3:], []byte(">>>"))
	newline := -1
	var stop int
	if end < 0 {
		l.errorf(start, "comment not terminated: expected '>>>' to close the comment opened here")
		stop = len(l.src)
	} else {
		stop = l.off + 3 + end + 3
	}
	if i := bytes.IndexByte(l.src[l.off:stop], '\n'); i >= 0 {
		newline = l.off + i
	}
	l.off = stop
	if newline >= 0 {
		l.newline(newline)
	}
	l.spaced = true
}

func (l *lexer) ident() {
	start := l.off
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c < utf8.RuneSelf {
			if isLetter(c) || isDigit(c) || c == '_' {
				l.off++
				continue
			}
			break
		}
		r, size := utf8.DecodeRune(l.src[l.off:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		l.off += size
	}
	text := string(l.src[start:l.off])
	if k, ok := keywords[text]; ok {
		l.unclosed(k)
		l.emit(k, start, "")
		return
	}
	l.emit(Name, start, "")
}

// number lexes 12, 1_000, 0xff, 0b101, 0o17, 1.5, 2e10, with an optional
// type suffix (12i64, 1.0f64).
func (l *lexer) number() {
	start := l.off
	kind := Int
	var digits strings.Builder
	base := 10
	if l.src[l.off] == '0' && (l.peek(1)|0x20 == 'x' || l.peek(1)|0x20 == 'b' || l.peek(1)|0x20 == 'o') {
		switch l.peek(1) | 0x20 {
		case 'x':
			base = 16
		case 'b':
			base = 2
		case 'o':
			base = 8
		}
		digits.Write(l.src[l.off : l.off+2])
		l.off += 2
		n := 0
		for l.off < len(l.src) && (isBaseDigit(l.src[l.off], base) || l.src[l.off] == '_') {
			if l.src[l.off] != '_' {
				digits.WriteByte(l.src[l.off])
				n++
			}
			l.off++
		}
		if n == 0 {
			l.errorf(start, "number %s has no digits", string(l.src[start:l.off]))
			digits.WriteByte('0')
		}
	} else {
		l.digits(&digits)
		if l.peek(0) == '.' && isDigit(l.peek(1)) {
			kind = Float
			digits.WriteByte('.')
			l.off++
			l.digits(&digits)
		}
		if c := l.peek(0); (c == 'e' || c == 'E') && (isDigit(l.peek(1)) || (l.peek(1) == '+' || l.peek(1) == '-') && isDigit(l.peek(2))) {
			kind = Float
			digits.WriteByte('e')
			l.off++
			if c := l.peek(0); c == '+' || c == '-' {
				digits.WriteByte(c)
				l.off++
			}
			l.digits(&digits)
		}
	}
	sufStart := l.off
	for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off]) || l.src[l.off] == '_') {
		l.off++
	}
	suffix := string(l.src[sufStart:l.off])
	switch suffix {
	case "":
	case "i32", "i64", "int":
		if kind == Float {
			l.errorf(sufStart, "invalid suffix %q on float literal: expected f64", suffix)
			suffix = ""
		}
	case "f64":
		if base != 10 {
			l.errorf(sufStart, "invalid suffix %q on %s literal: expected i32 or i64", suffix, baseName(base))
			suffix = ""
		} else {
			kind = Float
		}
	default:
		l.errorf(sufStart, "invalid suffix %q on number: expected i32, i64 or f64", cut(suffix))
		suffix = ""
	}
	value := digits.String()
	if kind == Int {
		if _, err := strconv.ParseUint(value, 0, 64); err != nil {
			l.errorf(start, "integer literal %s is too large: the largest is 18446744073709551615", cut(string(l.src[start:sufStart])))
			value = "0"
		}
	}
	t := l.emit(kind, start, value)
	t.Suffix = suffix
}

func baseName(base int) string {
	switch base {
	case 16:
		return "hexadecimal"
	case 8:
		return "octal"
	}
	return "binary"
}

func (l *lexer) digits(b *strings.Builder) {
	for l.off < len(l.src) && (isDigit(l.src[l.off]) || l.src[l.off] == '_') {
		if l.src[l.off] != '_' {
			b.WriteByte(l.src[l.off])
		}
		l.off++
	}
}

func isBaseDigit(c byte, base int) bool {
	switch base {
	case 2:
		return c == '0' || c == '1'
	case 8:
		return c >= '0' && c <= '7'
	case 16:
		return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f'
	}
	return isDigit(c)
}

// string lexes "..." with escapes, or """...""" without.
func (l *lexer) string() {
	start := l.off
	if l.peek(1) == '"' && l.peek(2) == '"' {
		end := bytes.Index(l.src[l.off+3:], []byte(`"""`))
		if end < 0 {
			l.errorf(start, `string not terminated: expected """ to close the raw string opened here`)
			l.off = len(l.src)
			l.emit(String, start, "")
			return
		}
		body := l.src[l.off+3 : l.off+3+end]
		if !utf8.Valid(body) {
			l.errorf(start+3+invalidAt(body), "invalid UTF-8 encoding in string")
		}
		l.off += 3 + end + 3
		l.emit(String, start, strings.ToValidUTF8(string(body), "\uFFFD"))
		return
	}
	l.off++
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			// Report at the opening quote and resume at the line end, as
			// if the string had been closed there.
			l.errorf(start, `string not terminated: expected '"' before the end of the line (write \n for a line break, or use a """raw string""")`)
			l.emit(String, start, b.String())
			return
		}
		c := l.src[l.off]
		switch {
		case c == '"':
			l.off++
			l.emit(String, start, b.String())
			return
		case c == '\\':
			l.escape(&b, '"')
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(l.src[l.off:])
			if r == utf8.RuneError && size == 1 {
				l.errorf(l.off, "invalid UTF-8 encoding in string")
			} else {
				b.WriteRune(r)
			}
			l.off += size
		default:
			b.WriteByte(c)
			l.off++
		}
	}
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return 0
}

// escape decodes the escape sequence at l.off into b.
func (l *lexer) escape(b *strings.Builder, quote byte) {
	start := l.off
	l.off++ // the backslash
	if l.off >= len(l.src) {
		return
	}
	c := l.src[l.off]
	l.off++
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case '0':
		b.WriteByte(0)
	case '\\', '"', '\'':
		b.WriteByte(c)
	case '\n':
		// A backslash at a line end joins the lines: the line end and the
		// next line's indentation are dropped.
		for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t' || l.src[l.off] == '\r' || l.src[l.off] == '\n') {
			l.off++
		}
	case 'x':
		if l.off+2 <= len(l.src) && isBaseDigit(l.src[l.off], 16) && isBaseDigit(l.src[l.off+1], 16) {
			v, _ := strconv.ParseUint(string(l.src[l.off:l.off+2]), 16, 8)
			l.off += 2
			if v > 0x7f {
				l.errorf(start, `escape \x%02X is out of range: \x takes 00 to 7F; write \u{%X} for the character U+%04X`, v, v, v)
				return
			}
			b.WriteByte(byte(v))
			return
		}
		l.errorf(start, `invalid escape: expected two hexadecimal digits after \x`)
	case 'u':
		if l.peek(0) != '{' {
			l.errorf(start, `invalid escape: expected '{' after \u, as in \u{E9}`)
			return
		}
		end := bytes.IndexByte(l.src[l.off:min(len(l.src), l.off+10)], '}')
		if end < 0 {
			l.errorf(start, `invalid escape: expected 1 to 6 hexadecimal digits and '}' after \u{`)
			return
		}
		hex := string(l.src[l.off+1 : l.off+end])
		l.off += end + 1
		v, err := strconv.ParseUint(strings.ReplaceAll(hex, "_", ""), 16, 32)
		if err != nil || hex == "" || len(hex) > 6 {
			l.errorf(start, `invalid escape \u{%s}: expected 1 to 6 hexadecimal digits`, cut(hex))
			return
		}
		if v > unicode.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			l.errorf(start, `invalid escape \u{%s}: not a Unicode scalar value (0 to 10FFFF, surrogates excluded)`, hex)
			return
		}
		b.WriteRune(rune(v))
	default:
		r, size := utf8.DecodeRune(l.src[l.off-1:])
		l.off += size - 1
		l.errorf(start, `unknown escape \%s: expected one of \n \t \r \0 \\ \%c \' \x41 \u{E9}`, cut(string(r)), quote)
	}
}

// char lexes a character literal: 'a', '\n', '\u{E9}', 'é'.
func (l *lexer) char() {
	start := l.off
	l.off++
	var b strings.Builder
	for l.off < len(l.src) && l.src[l.off] != '\'' && l.src[l.off] != '\n' {
		if l.src[l.off] == '\\' {
			l.escape(&b, '\'')
			continue
		}
		r, size := utf8.DecodeRune(l.src[l.off:])
		if r == utf8.RuneError && size == 1 {
			l.errorf(l.off, "invalid UTF-8 encoding in character literal")
		} else {
			b.WriteRune(r)
		}
		l.off += size
	}
	if l.off >= len(l.src) || l.src[l.off] != '\'' {
		l.errorf(start, "character literal not terminated: expected \"'\" to close it")
		l.emit(Char, start, "\x00")
		return
	}
	l.off++
	v := b.String()
	switch n := utf8.RuneCountInString(v); {
	case n == 0:
		l.errorf(start, "empty character literal: expected one character between the quotes")
		v = "\x00"
	case n > 1:
		l.errorf(start, "character literal %s holds %d characters: expected one (use \"...\" for a string)", cut(string(l.src[start:l.off])), n)
		_, size := utf8.DecodeRuneInString(v)
		v = v[:size]
	}
	l.emit(Char, start, v)
}

var operators = []struct {
	text string
	kind Kind
}{
	{"<<=", ShlEq}, {">>=", ShrEq}, {"..=", DotDotEq},
	{"->", Arrow}, {"=>", FatArrow}, {"::", ColonCol}, {"..", DotDot}, {"&&", AndAnd}, {"||", OrOr},
	{"==", Eq}, {"!=", NotEq}, {"<=", LtEq}, {">=", GtEq}, {"<<", Shl}, {">>", Shr},
	{"+=", PlusEq}, {"-=", MinusEq}, {"*=", StarEq}, {"/=", SlashEq}, {"%=", PercentEq},
	{"&=", AmpEq}, {"|=", PipeEq}, {"^=", CaretEq},
	{"(", LParen}, {")", RParen}, {"{", LBrace}, {"}", RBrace}, {"[", LBrack}, {"]", RBrack},
	{",", Comma}, {";", Semi}, {":", Colon}, {".", Dot}, {"#", Hash}, {"=", Assign},
	{"+", Plus}, {"-", Minus}, {"*", Star}, {"/", Slash}, {"%", Percent}, {"&", Amp},
	{"|", Pipe}, {"^", Caret}, {"!", Bang}, {"?", Question}, {"<", Lt}, {">", Gt},
}

// statementKeywords start a statement or a declaration, and never appear
// inside parentheses or square brackets.
var statementKeywords = map[Kind]bool{
	KwLet: true, KwSet: true, KwGive: true, KwReturn: true, KwIf: true, KwWhile: true,
	KwLoop: true, KwFor: true, KwBreak: true, KwContinue: true, KwProc: true, KwFn: true, KwConst: true,
}

// unclosed recovers from a parenthesis or bracket left open: when a line
// starts with a statement keyword inside one, the brackets opened since
// the last '{' are dropped and the line end ends the statement, so that
// the parser reports the missing ')' where the line ends and parses the
// next statement normally.
func (l *lexer) unclosed(k Kind) {
	n := len(l.stack)
	if !statementKeywords[k] || l.newlineAt < 0 || n == 0 || l.stack[n-1] == LBrace {
		return
	}
	for n > 0 && l.stack[n-1] != LBrace {
		n--
	}
	l.stack = l.stack[:n]
	l.toks = append(l.toks, Token{Kind: Semi, Pos: Pos(l.newlineAt), End: Pos(l.newlineAt), Text: "\n", Implicit: true})
}

// close pops the bracket stack down to the bracket that k closes. A ')' or
// ']' never closes past an open '{', so a stray one cannot turn line ends
// off for the rest of a block; a '}' closes any parentheses left open
// inside its block.
func (l *lexer) close(k Kind) {
	open := map[Kind]Kind{RParen: LParen, RBrack: LBrack, RBrace: LBrace}[k]
	for i := len(l.stack) - 1; i >= 0; i-- {
		if l.stack[i] == open {
			l.stack = l.stack[:i]
			return
		}
		if l.stack[i] == LBrace {
			return
		}
	}
}

func (l *lexer) operator() {
	rest := l.src[l.off:]
	for _, op := range operators {
		if len(rest) >= len(op.text) && string(rest[:len(op.text)]) == op.text {
			start := l.off
			l.off += len(op.text)
			switch op.kind {
			case LParen, LBrack, LBrace:
				l.stack = append(l.stack, op.kind)
			case RParen, RBrack, RBrace:
				l.close(op.kind)
			}
			l.emit(op.kind, start, "")
			return
		}
	}
	c := l.src[l.off]
	hint := ""
	switch c {
	case '~':
		hint = ": write '!' for a bitwise not"
	case '`':
		hint = `: strings are written between '"'`
	}
	if c < ' ' || c == 0x7f {
		l.errorf(l.off, "unexpected control character U+%04X", c)
	} else {
		l.errorf(l.off, "unexpected character %q%s", rune(c), hint)
	}
	l.off++
}

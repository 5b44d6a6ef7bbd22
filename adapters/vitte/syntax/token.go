package syntax

import (
	"fmt"
	"strings"
)

// Kind is the kind of a token.
type Kind int

// Token kinds.
const (
	EOF Kind = iota
	Name
	Int
	Float
	String
	Char

	// Punctuation and operators.
	LParen    // (
	RParen    // )
	LBrace    // {
	RBrace    // }
	LBrack    // [
	RBrack    // ]
	Comma     // ,
	Semi      // ; or a line end
	Colon     // :
	ColonCol  // ::
	Dot       // .
	DotDot    // ..
	DotDotEq  // ..=
	Arrow     // ->
	FatArrow  // =>
	Hash      // #
	Assign    // =
	Plus      // +
	Minus     // -
	Star      // *
	Slash     // /
	Percent   // %
	Amp       // &
	Pipe      // |
	Caret     // ^
	Shl       // <<
	Shr       // >>
	Bang      // !
	Question  // ?
	AndAnd    // &&
	OrOr      // ||
	Eq        // ==
	NotEq     // !=
	Lt        // <
	LtEq      // <=
	Gt        // >
	GtEq      // >=
	PlusEq    // +=
	MinusEq   // -=
	StarEq    // *=
	SlashEq   // /=
	PercentEq // %=
	AmpEq     // &=
	PipeEq    // |=
	CaretEq   // ^=
	ShlEq     // <<=
	ShrEq     // >>=

	// Keywords.
	keywordsStart
	KwProc
	KwFn
	KwLet
	KwMut
	KwSet
	KwGive
	KwReturn
	KwIf
	KwElif
	KwElse
	KwOtherwise
	KwWhile
	KwLoop
	KwFor
	KwIn
	KwBreak
	KwContinue
	KwAnd
	KwOr
	KwNot
	KwAs
	KwTrue
	KwFalse
	KwSpace
	KwUse
	KwPull
	KwShare
	KwConst
	KwPub
	keywordsEnd
)

var kindNames = map[Kind]string{
	EOF: "end of file", Name: "identifier", Int: "integer literal", Float: "float literal",
	String: "string literal", Char: "character literal",
	LParen: "'('", RParen: "')'", LBrace: "'{'", RBrace: "'}'", LBrack: "'['", RBrack: "']'",
	Comma: "','", Semi: "';'", Colon: "':'", ColonCol: "'::'", Dot: "'.'", DotDot: "'..'", DotDotEq: "'..='",
	Arrow: "'->'", FatArrow: "'=>'", Hash: "'#'", Assign: "'='", Plus: "'+'", Minus: "'-'", Star: "'*'",
	Slash: "'/'", Percent: "'%'", Amp: "'&'", Pipe: "'|'", Caret: "'^'", Shl: "'<<'", Shr: "'>>'",
	Bang: "'!'", Question: "'?'", AndAnd: "'&&'", OrOr: "'||'", Eq: "'=='", NotEq: "'!='", Lt: "'<'",
	LtEq: "'<='", Gt: "'>'", GtEq: "'>='", PlusEq: "'+='", MinusEq: "'-='", StarEq: "'*='", SlashEq: "'/='",
	PercentEq: "'%='", AmpEq: "'&='", PipeEq: "'|='", CaretEq: "'^='", ShlEq: "'<<='", ShrEq: "'>>='",
}

var keywords = map[string]Kind{
	"proc": KwProc, "fn": KwFn, "let": KwLet, "mut": KwMut, "set": KwSet, "give": KwGive,
	"return": KwReturn, "if": KwIf, "elif": KwElif, "else": KwElse, "otherwise": KwOtherwise,
	"while": KwWhile, "loop": KwLoop, "for": KwFor, "in": KwIn, "break": KwBreak,
	"continue": KwContinue, "and": KwAnd, "or": KwOr, "not": KwNot, "as": KwAs,
	"true": KwTrue, "false": KwFalse, "space": KwSpace, "use": KwUse, "pull": KwPull,
	"share": KwShare, "const": KwConst, "pub": KwPub,
}

var keywordNames = func() map[Kind]string {
	m := map[Kind]string{}
	for s, k := range keywords {
		m[k] = s
	}
	return m
}()

// String names the kind as error messages do: "identifier", "')'",
// "'give'".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	if s, ok := keywordNames[k]; ok {
		return "'" + s + "'"
	}
	return fmt.Sprintf("token(%d)", int(k))
}

// IsKeyword reports whether k is a keyword.
func (k Kind) IsKeyword() bool { return k > keywordsStart && k < keywordsEnd }

// Token is one lexical token.
type Token struct {
	Kind Kind
	Pos  Pos
	End  Pos
	// Text is the token's source text (for Semi: ";" or "\n").
	Text string
	// Value is the decoded value of a String or Char literal, or the digits
	// of a number without underscores and suffix.
	Value string
	// Suffix is the type suffix of a number ("i64"), if any.
	Suffix string
	// Implicit marks a Semi inserted at a line end.
	Implicit bool
	// Spaced reports whether white space or a comment precedes the token.
	Spaced bool
}

// describe names the token for "found ..." in error messages.
func (t Token) describe() string {
	switch t.Kind {
	case EOF:
		return "end of file"
	case Semi:
		if t.Implicit {
			return "end of line"
		}
		return "';'"
	case Name:
		return "'" + cut(t.Text) + "'"
	case Int, Float:
		return "number " + cut(t.Text)
	case String:
		return "string " + cut(t.Text)
	case Char:
		return "character " + cut(t.Text)
	}
	return t.Kind.String()
}

// cut shortens s to a readable length and makes it printable.
func cut(s string) string {
	const max = 24
	r := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	for i, c := range r {
		if c < ' ' || c == 0x7f {
			r[i] = '\uFFFD'
		}
	}
	if len(r) > max {
		return string(r[:max]) + "…"
	}
	return string(r)
}

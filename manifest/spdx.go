package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// checkLicense checks the syntax of an SPDX license expression (SPDX 2.3,
// annex D): license identifiers, optionally followed by "+", combined with
// AND, OR, WITH <exception> and parentheses. Operators are upper-case. The
// identifiers are not checked against the SPDX license list.
func checkLicense(s string) error {
	if err := checkText(s, maxLicenseLen, false); err != nil {
		return err
	}
	p := &spdxParser{s: s}
	err := p.parse()
	if err != nil {
		return fmt.Errorf("invalid SPDX license expression %s: %w", quote(s), err)
	}
	return nil
}

// spdxParser is a recursive descent parser of
//
//	expr   = and { "OR" and }
//	and    = term { "AND" term }
//	term   = "(" expr ")" | license [ "WITH" exception ]
//	license = idstring [ "+" ] | [ "DocumentRef-" idstring ":" ] "LicenseRef-" idstring
type spdxParser struct {
	s     string
	tok   string // current token; "" at the end
	i     int    // offset after tok
	depth int
}

const maxSPDXDepth = 32

func (p *spdxParser) parse() error {
	if err := p.next(); err != nil {
		return err
	}
	if err := p.expr(); err != nil {
		return err
	}
	if p.tok != "" {
		if p.tok == "+" {
			return errors.New(`"+" must follow a license identifier, without a space`)
		}
		if isLowerOperator(p.tok) {
			return fmt.Errorf("operator %q must be upper-case", p.tok)
		}
		return fmt.Errorf("unexpected %s: want AND, OR or WITH", describeToken(p.tok))
	}
	return nil
}

func isLowerOperator(tok string) bool {
	switch u := strings.ToUpper(tok); u {
	case "AND", "OR", "WITH":
		return tok != u
	}
	return false
}

// next reads the next token: "(", ")", or a word.
func (p *spdxParser) next() error {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
	if p.i == len(p.s) {
		p.tok = ""
		return nil
	}
	start := p.i
	if c := p.s[p.i]; c == '(' || c == ')' {
		p.i++
		p.tok = p.s[start:p.i]
		return nil
	}
	for p.i < len(p.s) && isSPDXChar(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return fmt.Errorf("invalid character %q", p.s[p.i])
	}
	p.tok = p.s[start:p.i]
	return nil
}

func isSPDXChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == ':'
}

func (p *spdxParser) expr() error {
	if err := p.and(); err != nil {
		return err
	}
	for p.tok == "OR" {
		if err := p.next(); err != nil {
			return err
		}
		if err := p.and(); err != nil {
			return err
		}
	}
	return nil
}

func (p *spdxParser) and() error {
	if err := p.term(); err != nil {
		return err
	}
	for p.tok == "AND" {
		if err := p.next(); err != nil {
			return err
		}
		if err := p.term(); err != nil {
			return err
		}
	}
	return nil
}

func (p *spdxParser) term() error {
	if p.tok == "(" {
		if p.depth++; p.depth > maxSPDXDepth {
			return errors.New("too many nested parentheses")
		}
		if err := p.next(); err != nil {
			return err
		}
		if err := p.expr(); err != nil {
			return err
		}
		if p.tok != ")" {
			return fmt.Errorf("expected ')', found %s", describeToken(p.tok))
		}
		p.depth--
		return p.next()
	}
	if err := p.license(p.tok); err != nil {
		return err
	}
	if err := p.next(); err != nil {
		return err
	}
	if p.tok != "WITH" {
		return nil
	}
	if err := p.next(); err != nil {
		return err
	}
	if err := p.id(p.tok, "exception identifier"); err != nil {
		return err
	}
	return p.next()
}

// license checks a license reference.
func (p *spdxParser) license(tok string) error {
	switch tok {
	case "", "(", ")", "AND", "OR", "WITH":
		return fmt.Errorf("expected a license identifier, found %s", describeToken(tok))
	case "+":
		return errors.New(`"+" must follow a license identifier, without a space`)
	}
	if doc, ok := strings.CutPrefix(tok, "DocumentRef-"); ok {
		ref, lic, ok := strings.Cut(doc, ":")
		if !ok || !strings.HasPrefix(lic, "LicenseRef-") {
			return fmt.Errorf("%q: want DocumentRef-<id>:LicenseRef-<id>", tok)
		}
		if err := p.id(ref, "document reference"); err != nil {
			return err
		}
		return p.id(strings.TrimPrefix(lic, "LicenseRef-"), "license reference")
	}
	if ref, ok := strings.CutPrefix(tok, "LicenseRef-"); ok {
		return p.id(ref, "license reference")
	}
	return p.id(strings.TrimSuffix(tok, "+"), "license identifier")
}

// id checks an idstring: [A-Za-z0-9.-]+.
func (p *spdxParser) id(tok, what string) error {
	switch tok {
	case "", "(", ")", "AND", "OR", "WITH":
		article := "a"
		if strings.ContainsRune("aeiou", rune(what[0])) {
			article = "an"
		}
		return fmt.Errorf("expected %s %s, found %s", article, what, describeToken(tok))
	}
	switch strings.ToUpper(tok) {
	case "AND", "OR", "WITH":
		return fmt.Errorf("operator %q must be upper-case", tok)
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c == '+' || c == ':' {
			return fmt.Errorf("invalid %s %q", what, tok)
		}
	}
	return nil
}

func describeToken(tok string) string {
	if tok == "" {
		return "end of expression"
	}
	return fmt.Sprintf("%q", tok)
}

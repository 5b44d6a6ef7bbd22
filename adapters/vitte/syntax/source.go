package syntax

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Pos is a byte offset into a source file.
type Pos int

// Source is a file being compiled: its name, its bytes and where its lines
// start.
type Source struct {
	Name  string
	Src   []byte
	lines []int // byte offset of each line's start
}

// NewSource returns the source of the file name.
func NewSource(name string, src []byte) *Source {
	s := &Source{Name: name, Src: src, lines: []int{0}}
	for i, c := range src {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// lineOf returns the 1-based line of p, in O(log lines).
func (s *Source) lineOf(p Pos) int {
	off := max(0, min(int(p), len(s.Src)))
	return sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off })
}

// Position returns the 1-based line and column of p. Columns count
// characters (Unicode code points; an invalid byte counts as one), so a
// column matches what an editor shows.
func (s *Source) Position(p Pos) (line, col int) {
	off := max(0, min(int(p), len(s.Src)))
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	start := s.lines[i]
	return i + 1, utf8.RuneCount(s.Src[start:off]) + 1
}

// Line returns the text of the 1-based line n, without its line ending.
func (s *Source) Line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	start := s.lines[n-1]
	end := len(s.Src)
	if n < len(s.lines) {
		end = s.lines[n] - 1
	}
	line := s.Src[start:end]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return string(line)
}

// Diagnostic is one problem found in a source file: a lexical, syntax or
// type error, located at a line and column.
type Diagnostic struct {
	File string
	Line int // 1-based
	Col  int // 1-based, in characters
	Msg  string
	// Source is the text of the line, as shown under the message.
	Source string
}

// Error returns "file:line:col: message".
func (d Diagnostic) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
}

// maxShownLine bounds how much of a source line a diagnostic shows.
const maxShownLine = 120

// Format returns the message, then the source line and a caret under the
// column, each on its own line with a 4-space indent.
func (d Diagnostic) Format() string {
	var b strings.Builder
	b.WriteString(d.Error())
	runes := []rune(strings.ToValidUTF8(d.Source, "\uFFFD"))
	col := d.Col - 1
	if col > len(runes) {
		col = len(runes)
	}
	// Show a window of a long line around the column.
	start := 0
	if len(runes) > maxShownLine {
		start = max(0, col-maxShownLine/2)
		end := min(len(runes), start+maxShownLine)
		runes = runes[start:end]
		col -= start
	}
	line := make([]rune, 0, len(runes))
	caret := make([]rune, 0, col+1)
	for i, r := range runes {
		if r < ' ' && r != '\t' || r == 0x7f {
			r = '\uFFFD'
		}
		line = append(line, r)
		if i < col {
			if r == '\t' {
				caret = append(caret, '\t')
			} else {
				caret = append(caret, ' ')
			}
		}
	}
	caret = append(caret, '^')
	b.WriteString("\n    ")
	b.WriteString(strings.TrimRight(string(line), " \t"))
	b.WriteString("\n    ")
	b.WriteString(string(caret))
	return b.String()
}

// MaxErrors is how many diagnostics a compilation reports at most; a last
// one then says that there were more.
const MaxErrors = 50

// Reporter collects the diagnostics of one source file.
type Reporter struct {
	src   *Source
	diags []Diagnostic
	// lastLine is the line of the last syntax error: the parser reports
	// at most one per line, so one mistake does not cascade.
	lastLine int
	// lexLines are the lines with a lexical error: a syntax error there
	// would only repeat it.
	lexLines map[int]bool
	full     bool
}

// NewReporter returns a reporter for src.
func NewReporter(src *Source) *Reporter { return &Reporter{src: src, lastLine: -1} }

// Source returns the source file.
func (r *Reporter) Source() *Source { return r.src }

// Errorf records a diagnostic at p.
func (r *Reporter) Errorf(p Pos, format string, args ...any) {
	if r.full {
		return
	}
	// The column costs the length of the line: it is computed only for
	// the diagnostics kept.
	line, col := r.src.Position(p)
	if len(r.diags) == MaxErrors {
		r.full = true
		r.diags = append(r.diags, Diagnostic{File: r.src.Name, Line: line, Col: col, Msg: "too many errors", Source: r.src.Line(line)})
		return
	}
	r.diags = append(r.diags, Diagnostic{File: r.src.Name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Source: r.src.Line(line)})
}

// lexErrorf records a lexical error.
func (r *Reporter) lexErrorf(p Pos, format string, args ...any) {
	if r.full {
		return
	}
	line := r.src.lineOf(p)
	if r.lexLines == nil {
		r.lexLines = map[int]bool{}
	}
	r.lexLines[line] = true
	r.Errorf(p, format, args...)
}

// syntaxErrorf records a diagnostic at p unless one was already reported
// on its line.
func (r *Reporter) syntaxErrorf(p Pos, format string, args ...any) {
	line := r.src.lineOf(p)
	if r.full || line == r.lastLine || r.lexLines[line] {
		return
	}
	r.lastLine = line
	r.Errorf(p, format, args...)
}

// Diagnostics returns the diagnostics in the order they were reported.
func (r *Reporter) Diagnostics() []Diagnostic { return r.diags }

// Len returns the number of diagnostics.
func (r *Reporter) Len() int { return len(r.diags) }

// Sorted returns the diagnostics sorted by position, stably.
func (r *Reporter) Sorted() []Diagnostic {
	out := append([]Diagnostic(nil), r.diags...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Msg == "too many errors" || out[j].Msg == "too many errors" {
			return out[j].Msg == "too many errors" && out[i].Msg != "too many errors"
		}
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Col < out[j].Col
	})
	return out
}

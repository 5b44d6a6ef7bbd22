// Package syntax reads Vitte source: the lexer (Lex), the parser (Parse)
// and the syntax tree they build (File, Decl, Stmt, Expr), and the
// diagnostics every stage of the compiler reports (Source, Reporter,
// Diagnostic).
//
// Both spellings of the language are read: current Vitte (proc, give,
// set, elif, and/or/not, space and use) and the 2025-era style (fn,
// return, else if, &&/||/!, println!, tail expressions). docs/vitte.md
// lists the accepted subset.
//
// # Errors
//
// A Diagnostic names the file, the line and the column (in characters),
// says what was expected, and formats with the source line and a caret.
// The lexer and the parser never stop at the first error: the lexer skips
// the bad character or ends a broken literal at its line end, and the
// parser resynchronises at the end of the statement or declaration,
// reporting at most one syntax error per line and none on a line that
// already has a lexical error. The tree they return is always complete
// enough to type-check; what did not parse is a Bad node.
//
// # Hostile input
//
// Nesting (parentheses, blocks, unary operators) is bounded, and so are
// chains of operators, calls and arguments: past the bound the parser
// reports one error and stops, so later stages never recurse deeply.
// Nothing here panics on any input (FuzzParse).
package syntax

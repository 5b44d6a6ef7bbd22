package wasmbin

import (
	"errors"
	"fmt"
)

// ErrTableLimit is wrapped when a module's tables cannot fit a limit.
var ErrTableLimit = errors.New("table limit")

// parseTables reads the table section: each table is a reference type and
// limits, or 0x40 0x00, a table type and an initialiser (a constant
// expression, skipped).
func (m *Module) parseTables(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	for range n {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c != 0x40 {
			r.off--
			if err := m.parseTable(r); err != nil {
				return err
			}
			continue
		}
		if c, err := r.byte(); err != nil {
			return err
		} else if c != 0 {
			return r.errf("table with initialiser: reserved byte 0x%02x", c)
		}
		if err := m.parseTable(r); err != nil {
			return err
		}
		if err := r.skipConstExpr(); err != nil {
			return err
		}
	}
	return nil
}

// parseTable reads a table type: a reference type, then limits.
func (m *Module) parseTable(r *reader) error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	switch c {
	case 0x70, 0x6f, 0x69: // funcref, externref, exnref
	case 0x63, 0x64: // (ref null ht), (ref ht): a heap type, an s33
		if _, err := r.uleb(33); err != nil {
			return err
		}
	default:
		return r.errf("unknown table element type 0x%02x", c)
	}
	l, err := r.limits(true)
	if err != nil {
		return err
	}
	if l.Shared {
		return r.errf("shared table")
	}
	m.Tables = append(m.Tables, l)
	return nil
}

// skipConstExpr skips a constant expression up to its end opcode. It
// knows the instructions a table initialiser may use.
func (r *reader) skipConstExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41, 0x42, 0x23, 0xd2: // i32.const, i64.const, global.get, ref.func
			_, err = r.uleb(64)
		case 0xd0: // ref.null ht
			_, err = r.uleb(33)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants
		default:
			return r.errf("instruction 0x%02x in a table initialiser", op)
		}
		if err != nil {
			return err
		}
	}
}

// CheckTables checks that the module declares at most maxTables tables
// and that they can start within maxElements elements in all: table.grow
// is bounded at run time by the same total (see internal/meter).
func CheckTables(m *Module, maxTables int, maxElements uint64) error {
	if len(m.Tables) > maxTables {
		return fmt.Errorf("module declares %d tables, over the limit of %d: %w", len(m.Tables), maxTables, ErrTableLimit)
	}
	var total uint64
	for _, t := range m.Tables {
		if t.Is64 {
			return fmt.Errorf("64-bit tables are not supported: %w", ErrTableLimit)
		}
		total += t.Min
	}
	if total > maxElements {
		return fmt.Errorf("module's tables need %d elements to start, over the limit of %d elements: %w", total, maxElements, ErrTableLimit)
	}
	return nil
}

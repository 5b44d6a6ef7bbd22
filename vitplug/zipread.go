package vitplug

import (
	"bufio"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
)

// The ZIP records this package reads and writes (APPNOTE.TXT 4.3).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64Loc   = 0x07064b50
	sigDescriptor = 0x08074b50

	localLen      = 30
	centralLen    = 46
	endLen        = 22
	end64LocLen   = 20
	maxCommentLen = 0xffff

	methodStore   = 0
	methodDeflate = 8

	flagEncrypted       = 0x0001
	flagDescriptor      = 0x0008
	flagStrongEncrypted = 0x0040
	flagMaskedHeaders   = 0x2000
	flagsCompared       = flagEncrypted | flagDescriptor | flagStrongEncrypted | flagMaskedHeaders

	creatorUnix   = 3
	creatorMacOSX = 19

	unixTypeMask = 0xf000
	unixFIFO     = 0x1000
	unixChar     = 0x2000
	unixDir      = 0x4000
	unixBlock    = 0x6000
	unixRegular  = 0x8000
	unixSymlink  = 0xa000
	unixSocket   = 0xc000

	dosVolume  = 0x08
	dosDir     = 0x10
	dosReparse = 0x400
)

// zipEntry is one entry as the central directory describes it, with where
// its data lies once the local header is checked.
type zipEntry struct {
	name     string
	creator  byte // the host system of "version made by"
	flags    uint16
	method   uint16
	crc      uint32
	csize    uint64
	usize    uint64
	extAttrs uint32
	offset   int64 // of the local header
	data     int64 // of the data, past the local header
	end      int64 // past the data and its data descriptor
}

func isFolder(name string) bool { return strings.HasSuffix(name, "/") }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// readAt fills b from r at off. A short read is a truncated archive.
func readAt(r io.ReaderAt, b []byte, off int64, what string) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		return corrupt("%s at offset %d: truncated", what, off)
	}
	return fmt.Errorf("read archive: %w", err)
}

// readDirectory reads the end record and the central directory of the
// archive r of size bytes. It refuses ZIP64, multi-disk archives and any
// byte after the end record or between the central directory and the end
// record, and bounds the memory it takes by lim.MaxEntries. It returns the
// entries in central-directory order, and where the central directory
// begins.
func readDirectory(r io.ReaderAt, size int64, lim Limits) ([]*zipEntry, int64, error) {
	if size < endLen {
		return nil, 0, corrupt("not a ZIP archive: %d bytes", size)
	}
	tailLen := min(size, endLen+maxCommentLen)
	tail := make([]byte, tailLen)
	if err := readAt(r, tail, size-tailLen, "end of central directory"); err != nil {
		return nil, 0, err
	}
	i := findEnd(tail)
	if i < 0 {
		return nil, 0, corrupt("not a ZIP archive: no end of central directory record")
	}
	end := tail[i:]
	if commentLen := int(binary.LittleEndian.Uint16(end[20:])); i+endLen+commentLen != len(tail) {
		return nil, 0, corrupt("data after the end of central directory record")
	}
	endOffset := size - tailLen + int64(i)
	var (
		disk     = binary.LittleEndian.Uint16(end[4:])
		cdDisk   = binary.LittleEndian.Uint16(end[6:])
		diskRecs = binary.LittleEndian.Uint16(end[8:])
		records  = binary.LittleEndian.Uint16(end[10:])
		cdSize   = binary.LittleEndian.Uint32(end[12:])
		cdOffset = binary.LittleEndian.Uint32(end[16:])
	)
	zip64 := records == 0xffff || cdSize == 0xffffffff || cdOffset == 0xffffffff
	if !zip64 && endOffset >= end64LocLen {
		var sig [4]byte
		if err := readAt(r, sig[:], endOffset-end64LocLen, "ZIP64 locator"); err != nil {
			return nil, 0, err
		}
		zip64 = binary.LittleEndian.Uint32(sig[:]) == sigEnd64Loc
	}
	if zip64 {
		return nil, 0, corrupt("ZIP64 archives are not read")
	}
	if disk != 0 || cdDisk != 0 || diskRecs != records {
		return nil, 0, corrupt("multi-disk archives are not read")
	}
	if int64(cdOffset)+int64(cdSize) != endOffset {
		return nil, 0, corrupt("the central directory does not end where the end of central directory record begins")
	}

	br := bufio.NewReader(io.NewSectionReader(r, int64(cdOffset), int64(cdSize)))
	var entries []*zipEntry
	for n := 1; ; n++ {
		var h [centralLen]byte
		if _, err := io.ReadFull(br, h[:]); err == io.EOF {
			break
		} else if err != nil {
			return nil, 0, corrupt("central directory entry %d: truncated", n)
		}
		if binary.LittleEndian.Uint32(h[:]) != sigCentral {
			return nil, 0, corrupt("central directory entry %d: bad signature", n)
		}
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		metaLen := int(binary.LittleEndian.Uint16(h[30:])) + int(binary.LittleEndian.Uint16(h[32:]))
		b := make([]byte, nameLen)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, 0, corrupt("central directory entry %d: truncated", n)
		}
		name := string(b)
		switch {
		case n > lim.MaxEntries:
			return nil, 0, entryErr(name, ErrTooLarge, "more than %d entries", lim.MaxEntries)
		case nameLen > MaxNameLength:
			return nil, 0, entryErr(name, ErrUnsafePath, "name longer than %d bytes", MaxNameLength)
		case metaLen > maxEntryMeta:
			return nil, 0, entryErr(name, ErrTooLarge, "%d bytes of extra fields and comment, over the limit of %d", metaLen, maxEntryMeta)
		}
		if _, err := br.Discard(metaLen); err != nil {
			return nil, 0, corrupt("central directory entry %d: truncated", n)
		}
		e := &zipEntry{
			name:     name,
			creator:  h[5],
			flags:    binary.LittleEndian.Uint16(h[8:]),
			method:   binary.LittleEndian.Uint16(h[10:]),
			crc:      binary.LittleEndian.Uint32(h[16:]),
			csize:    uint64(binary.LittleEndian.Uint32(h[20:])),
			usize:    uint64(binary.LittleEndian.Uint32(h[24:])),
			extAttrs: binary.LittleEndian.Uint32(h[38:]),
			offset:   int64(binary.LittleEndian.Uint32(h[42:])),
		}
		if e.csize == 0xffffffff || e.usize == 0xffffffff || e.offset == 0xffffffff {
			return nil, 0, entryErr(name, ErrCorrupt, "ZIP64 sizes are not read")
		}
		if binary.LittleEndian.Uint16(h[34:]) != 0 {
			return nil, 0, entryErr(name, ErrCorrupt, "on another disk")
		}
		entries = append(entries, e)
	}
	if len(entries) != int(records) {
		return nil, 0, corrupt("the end of central directory record counts %d entries, the central directory has %d", records, len(entries))
	}
	return entries, int64(cdOffset), nil
}

// findEnd returns the offset in b of the last end of central directory
// record whose comment fits in b, as archive/zip finds it, or -1.
func findEnd(b []byte) int {
	for i := len(b) - endLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(b[i:]) == sigEnd {
			if i+endLen+int(binary.LittleEndian.Uint16(b[i+20:])) > len(b) {
				return -1
			}
			return i
		}
	}
	return -1
}

// fileType returns why e is not a regular file or a folder whose name ends
// in "/", or "".
func fileType(e *zipEntry) string {
	dir := isFolder(e.name)
	if e.creator == creatorUnix || e.creator == creatorMacOSX {
		switch t := e.extAttrs >> 16 & unixTypeMask; t {
		case 0:
		case unixRegular:
			if dir {
				return "a file whose name ends in /"
			}
		case unixDir:
			if !dir {
				return "a folder whose name does not end in /"
			}
		case unixSymlink:
			return "symbolic link"
		case unixChar:
			return "character device"
		case unixBlock:
			return "block device"
		case unixFIFO:
			return "named pipe"
		case unixSocket:
			return "socket"
		default:
			return fmt.Sprintf("unknown file type %#o", t)
		}
	}
	switch {
	case e.extAttrs&dosReparse != 0:
		return "reparse point (a Windows link)"
	case e.extAttrs&dosVolume != 0:
		return "volume label"
	case e.extAttrs&dosDir != 0 && !dir:
		return "a folder whose name does not end in /"
	}
	return ""
}

// checkLayout reads the local header of every entry and checks that it
// agrees with the central directory (name, method, flags, and the CRC and
// sizes where the local header has them), that its data descriptor, if
// any, does too, and that the entries and their data tile the archive from
// offset 0 to the central directory at cdOffset, with no gap and no
// overlap. So a reader that walks the local headers, as streaming
// extractors do, sees the same entries with the same content.
func checkLayout(r io.ReaderAt, entries []*zipEntry, cdOffset int64) error {
	for _, e := range entries {
		var h [localLen]byte
		if e.offset > cdOffset-localLen {
			return entryErr(e.name, ErrCorrupt, "local header past the data area")
		}
		if err := readAt(r, h[:], e.offset, "local header"); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(h[:]) != sigLocal {
			return entryErr(e.name, ErrCorrupt, "bad local header signature")
		}
		nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
		if e.offset+localLen+nameLen+extraLen > cdOffset {
			return entryErr(e.name, ErrCorrupt, "local header past the data area")
		}
		name := make([]byte, nameLen)
		if err := readAt(r, name, e.offset+localLen, "local header"); err != nil {
			return err
		}
		if string(name) != e.name {
			return entryErr(e.name, ErrCorrupt, "the local header names %s", quote(string(name)))
		}
		flags := binary.LittleEndian.Uint16(h[6:])
		if (flags^e.flags)&flagsCompared != 0 || binary.LittleEndian.Uint16(h[8:]) != e.method {
			return entryErr(e.name, ErrCorrupt, "the local header's flags or method differ from the central directory's")
		}
		e.data = e.offset + localLen + nameLen + extraLen
		e.end = e.data + int64(e.csize)
		if e.end > cdOffset {
			return entryErr(e.name, ErrCorrupt, "data past the data area")
		}
		var crc, csize, usize uint32
		where := "local header"
		if e.flags&flagDescriptor == 0 {
			crc = binary.LittleEndian.Uint32(h[14:])
			csize = binary.LittleEndian.Uint32(h[18:])
			usize = binary.LittleEndian.Uint32(h[22:])
		} else {
			where = "data descriptor"
			var d [16]byte
			n := int64(min(16, cdOffset-e.end))
			if n < 12 {
				return entryErr(e.name, ErrCorrupt, "data descriptor past the data area")
			}
			if err := readAt(r, d[:n], e.end, "data descriptor"); err != nil {
				return err
			}
			b := d[:]
			if binary.LittleEndian.Uint32(b) == sigDescriptor && n == 16 {
				b = b[4:]
				e.end += 4
			}
			crc = binary.LittleEndian.Uint32(b)
			csize = binary.LittleEndian.Uint32(b[4:])
			usize = binary.LittleEndian.Uint32(b[8:])
			e.end += 12
		}
		if crc != e.crc || uint64(csize) != e.csize || uint64(usize) != e.usize {
			return entryErr(e.name, ErrCorrupt, "the %s's CRC-32 or sizes differ from the central directory's", where)
		}
	}

	byOffset := slices.Clone(entries)
	slices.SortStableFunc(byOffset, func(a, b *zipEntry) int { return cmp.Compare(a.offset, b.offset) })
	next := int64(0)
	for i, e := range byOffset {
		switch {
		case e.offset < next:
			return entryErr(e.name, ErrCorrupt, "overlaps entry %s", quote(byOffset[i-1].name))
		case e.offset > next:
			return entryErr(e.name, ErrCorrupt, "%d bytes of unlisted data before its local header", e.offset-next)
		}
		next = e.end
	}
	if next != cdOffset {
		return corrupt("%d bytes of unlisted data before the central directory", cdOffset-next)
	}
	return nil
}

// readEntry inflates e, whose sizes and layout were checked, and checks
// that it inflates to exactly its declared size and CRC-32, and that a
// deflate stream ends exactly at the end of its data. It allocates the
// declared size, which the limits and the ratio rule bound, and no more.
func readEntry(r io.ReaderAt, e *zipEntry) ([]byte, error) {
	raw := &ioErrReader{r: io.NewSectionReader(r, e.data, int64(e.csize))}
	var br *bufio.Reader
	dec := &ioErrReader{r: raw}
	if e.method == methodDeflate {
		br = bufio.NewReader(raw)
		fr := flate.NewReader(br)
		defer fr.Close()
		dec.r = fr
	}
	data := make([]byte, e.usize)
	n, _ := io.ReadFull(dec, data)
	more := 0
	if n == len(data) {
		var b [1]byte
		more, _ = io.ReadFull(dec, b[:])
	}
	switch {
	case raw.err != nil:
		return nil, fmt.Errorf("read archive: entry %s: %w", quote(e.name), raw.err)
	case more > 0:
		return nil, entryErr(e.name, ErrTooLarge, "inflates past its declared size of %d bytes", e.usize)
	case dec.err != nil:
		return nil, entryErr(e.name, ErrCorrupt, "inflate: %v", dec.err)
	case n < len(data):
		return nil, entryErr(e.name, ErrCorrupt, "inflates to %d bytes, not the declared %d", n, e.usize)
	}
	if br != nil {
		if _, err := br.ReadByte(); err != io.EOF {
			return nil, entryErr(e.name, ErrCorrupt, "data after the end of the deflate stream")
		}
	}
	if crc32.ChecksumIEEE(data) != e.crc {
		return nil, entryErr(e.name, ErrCorrupt, "CRC-32 mismatch")
	}
	return data, nil
}

// ioErrReader remembers an error of r other than io.EOF: a failure to read
// the archive, rather than a fault of its content.
type ioErrReader struct {
	r   io.Reader
	err error
}

func (r *ioErrReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

package initramfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Newc format constants (buffer-format.rst).
const (
	headerSize  = 110
	magicNewc   = "070701"
	magicCRC    = "070702"
	trailerName = "TRAILER!!!"
)

// Header is one newc record header. All numbers are 32-bit in the format.
type Header struct {
	Name      string
	Ino       uint32
	Mode      uint32
	UID       uint32
	GID       uint32
	Nlink     uint32
	Mtime     uint32
	FileSize  uint32
	DevMajor  uint32
	DevMinor  uint32
	RdevMajor uint32
	RdevMinor uint32
	Check     uint32
	crc       bool // magic 070702: Check is the sum of the data bytes
}

// FormatError reports a malformed archive and where in the (decompressed)
// stream the problem is.
type FormatError struct {
	Offset int64
	Reason string
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("initramfs: malformed cpio archive at byte %d: %s", e.Offset, e.Reason)
}

// errTrailer is returned by Next at the TRAILER!!! record.
var errTrailer = errors.New("initramfs: trailer")

// Reader reads newc records from a stream.
type Reader struct {
	r      *bufio.Reader
	off    int64  // bytes consumed
	remain int64  // unread data bytes of the current entry
	pad    int64  // padding after them
	sum    uint32 // running checksum of the current entry's data
	hdr    *Header
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Reader{r: br}
}

func (r *Reader) errorf(format string, args ...any) error {
	return &FormatError{Offset: r.off, Reason: fmt.Sprintf(format, args...)}
}

func (r *Reader) readFull(b []byte, what string) error {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return r.errorf("truncated %s", what)
	}
	return err
}

func (r *Reader) skip(n int64, what string) error {
	d, err := r.r.Discard(int(n))
	r.off += int64(d)
	if err == io.EOF {
		return r.errorf("truncated %s", what)
	}
	return err
}

// Next skips what is left of the current entry and returns the next
// header; errTrailer at the trailer.
func (r *Reader) Next() (*Header, error) {
	if r.remain > 0 {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
	}
	if err := r.finishEntry(); err != nil {
		return nil, err
	}
	start := r.off
	if _, err := r.r.Peek(1); err == io.EOF {
		return nil, io.EOF
	}
	var b [headerSize]byte
	if err := r.readFull(b[:], "header"); err != nil {
		return nil, err
	}
	h := &Header{}
	switch string(b[:6]) {
	case magicNewc:
	case magicCRC:
		h.crc = true
	default:
		return nil, &FormatError{start, fmt.Sprintf("bad magic %q (want %q or %q)", b[:6], magicNewc, magicCRC)}
	}
	fields := []*uint32{&h.Ino, &h.Mode, &h.UID, &h.GID, &h.Nlink, &h.Mtime, &h.FileSize,
		&h.DevMajor, &h.DevMinor, &h.RdevMajor, &h.RdevMinor, nil, &h.Check}
	var nameSize uint32
	fields[11] = &nameSize
	for i, f := range fields {
		s := string(b[6+8*i : 14+8*i])
		v, err := strconv.ParseUint(s, 16, 32)
		if err != nil {
			return nil, &FormatError{start + 6 + 8*int64(i), fmt.Sprintf("bad hex field %q", s)}
		}
		*f = uint32(v)
	}
	if nameSize == 0 || nameSize > linux.PATH_MAX {
		return nil, &FormatError{start, fmt.Sprintf("name size %d out of range 1..%d", nameSize, linux.PATH_MAX)}
	}
	name := make([]byte, nameSize)
	if err := r.readFull(name, "name"); err != nil {
		return nil, err
	}
	if name[nameSize-1] != 0 {
		return nil, &FormatError{start + headerSize, "name is not NUL-terminated"}
	}
	for _, c := range name[:nameSize-1] {
		if c == 0 {
			return nil, &FormatError{start + headerSize, "NUL inside the name"}
		}
	}
	h.Name = string(name[:nameSize-1])
	if err := r.skip(pad4(headerSize+int64(nameSize)), "name padding"); err != nil {
		return nil, err
	}
	r.hdr, r.remain, r.pad, r.sum = h, int64(h.FileSize), pad4(int64(h.FileSize)), 0
	if h.Name == trailerName {
		return h, errTrailer
	}
	return h, nil
}

// finishEntry consumes the current entry's padding and checks its
// checksum.
func (r *Reader) finishEntry() error {
	if r.hdr == nil {
		return nil
	}
	h := r.hdr
	r.hdr = nil
	if err := r.skip(r.pad, "data padding"); err != nil {
		return err
	}
	if h.crc && r.sum != h.Check {
		return r.errorf("entry %q: checksum %#x, header says %#x", h.Name, r.sum, h.Check)
	}
	return nil
}

// Read reads the current entry's data; io.EOF at its end.
func (r *Reader) Read(p []byte) (int, error) {
	if r.remain == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	r.remain -= int64(n)
	if r.hdr != nil && r.hdr.crc {
		for _, c := range p[:n] {
			r.sum += uint32(c)
		}
	}
	if err == io.EOF {
		if r.remain > 0 {
			return n, r.errorf("entry %q: data truncated (size %d past the end)", r.hdr.Name, r.hdr.FileSize)
		}
		err = nil
	}
	return n, err
}

func pad4(n int64) int64 { return (4 - n%4) % 4 }

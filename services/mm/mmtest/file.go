package mmtest

import "io"

// File is an mm.File over a byte slice, for tests of file mappings.
type File struct {
	Data []byte
}

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= int64(len(f.Data)) {
		return 0, io.EOF
	}
	n := copy(p, f.Data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size implements mm.File.
func (f *File) Size() int64 { return int64(len(f.Data)) }

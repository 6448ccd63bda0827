package linux

import "encoding/binary"

// Dirent64 is one struct linux_dirent64 as getdents64(2) returns it
// (include/linux/dirent.h):
//
//	u64  d_ino;
//	s64  d_off;      // position of the next entry
//	u16  d_reclen;   // size of this record, 8-byte aligned
//	u8   d_type;
//	char d_name[];   // NUL-terminated, padded with NULs
type Dirent64 struct {
	Ino  uint64
	Off  int64
	Type uint8
	Name string
}

// direntHeader is the size of the fixed part of linux_dirent64.
const direntHeader = 19

// Reclen is the record length of d: header, name, NUL, rounded up to 8
// (fs/readdir.c filldir64).
func (d *Dirent64) Reclen() int {
	return (direntHeader + len(d.Name) + 1 + 7) &^ 7
}

// AppendDirent64 appends d's record to buf.
func AppendDirent64(buf []byte, d *Dirent64) []byte {
	n := d.Reclen()
	start := len(buf)
	buf = append(buf, make([]byte, n)...)
	rec := buf[start:]
	binary.LittleEndian.PutUint64(rec[0:], d.Ino)
	binary.LittleEndian.PutUint64(rec[8:], uint64(d.Off))
	binary.LittleEndian.PutUint16(rec[16:], uint16(n))
	rec[18] = d.Type
	copy(rec[direntHeader:], d.Name)
	return buf
}

// ParseDirents64 decodes a buffer filled by getdents64(2). It returns
// EINVAL for a malformed record.
func ParseDirents64(buf []byte) ([]Dirent64, error) {
	var out []Dirent64
	for len(buf) > 0 {
		if len(buf) < direntHeader+1 {
			return out, EINVAL
		}
		n := int(binary.LittleEndian.Uint16(buf[16:]))
		if n < direntHeader+1 || n > len(buf) {
			return out, EINVAL
		}
		name := buf[direntHeader:n]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		out = append(out, Dirent64{
			Ino:  binary.LittleEndian.Uint64(buf[0:]),
			Off:  int64(binary.LittleEndian.Uint64(buf[8:])),
			Type: buf[18],
			Name: string(name),
		})
		buf = buf[n:]
	}
	return out, nil
}

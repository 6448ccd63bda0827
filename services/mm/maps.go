package mm

import (
	"strconv"
)

// mapsNameColumn is where show_vma_header_prefix pads a line to before the
// name: seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) (fs/proc/task_mmu.c).
const mapsNameColumn = 25 + 8*6 - 1

// Maps returns the text of /proc/[pid]/maps for m, in the exact format of
// show_map_vma (fs/proc/task_mmu.c): for each VMA,
//
//	start-end perms offset major:minor inode [padding name]
//
// with addresses and offset in lower-case hex of at least 8 digits,
// device numbers in 2-digit hex, and the name (file path, "[heap]",
// "[stack]", "[vdso]") padded to column 73. Anonymous memory shows offset
// 0 and device 00:00.
//
// Differences from Linux: a shared anonymous area shows device 00:01 and
// inode 0 (Linux shows its shmem inode number).
func (m *MM) Maps() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b []byte
	for i := range m.vmas {
		v := &m.vmas[i]
		lineStart := len(b)
		b = appendHex(b, v.Start)
		b = append(b, '-')
		b = appendHex(b, v.End)
		b = append(b, ' ')
		b = append(b, v.Prot.String()...)
		if v.Shared {
			b = append(b, 's')
		} else {
			b = append(b, 'p')
		}
		b = append(b, ' ')
		var off uint64
		id := v.ID
		if v.File != nil {
			off = v.Offset
		}
		if v.Shared {
			id = FileID{Minor: 1}
		}
		b = appendHex(b, off)
		b = append(b, ' ')
		b = appendHex2(b, uint64(id.Major))
		b = append(b, ':')
		b = appendHex2(b, uint64(id.Minor))
		b = append(b, ' ')
		b = strconv.AppendUint(b, id.Ino, 10)
		b = append(b, ' ')
		if name := m.nameLocked(v); name != "" {
			for len(b)-lineStart < mapsNameColumn {
				b = append(b, ' ')
			}
			b = append(b, ' ')
			b = append(b, name...)
		}
		b = append(b, '\n')
	}
	return b
}

// nameLocked is the name show_map_vma prints for v.
//
// Preconditions: m.mu is held.
func (m *MM) nameLocked(v *VMA) string {
	switch {
	case v.Name != "":
		return v.Name
	case v.File != nil:
		return ""
	case v.Start < m.brk && v.End > m.startBrk: // vma_is_initial_heap
		return "[heap]"
	case v.Start <= m.startStack && v.End >= m.startStack: // vma_is_initial_stack
		return "[stack]"
	}
	return ""
}

// appendHex appends x in lower-case hex, zero-padded to 8 digits
// (seq_put_hex_ll with width 8).
func appendHex(b []byte, x uint64) []byte {
	s := strconv.FormatUint(x, 16)
	for i := len(s); i < 8; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendHex2 appends x in lower-case hex, zero-padded to 2 digits.
func appendHex2(b []byte, x uint64) []byte {
	if x < 16 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, x, 16)
}

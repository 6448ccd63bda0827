package pci

import "github.com/aster-cvm/aster/services/hw"

// BARKind is how a BAR decodes.
type BARKind uint8

// BAR kinds (§6.2.5.1).
const (
	BARUnused BARKind = iota
	BARMem32
	BARMem64
	BARIO
)

// BAR is a decoded base address register.
type BAR struct {
	Kind BARKind
	// Addr is the bus address the BAR decodes at; 0 for a memory BAR means
	// unassigned (firmware left it alone).
	Addr uint64
	// Size is the decoded size in bytes (a power of two).
	Size         uint64
	Prefetchable bool
}

// sizeBARs decodes and sizes BARs 0..n-1 the standard way (§6.2.5.1;
// Linux __pci_read_base): with decode disabled so the transient all-ones
// address cannot claim cycles, write all ones, read the size mask back,
// restore the original value, and finally restore the command register.
func (f *Function) sizeBARs(n int) {
	cfg := f.Config
	cmd := cfg.Read16(RegCommand)
	cfg.Write16(RegCommand, cmd&^(CmdIO|CmdMemory))
	defer cfg.Write16(RegCommand, cmd)
	for i := 0; i < n; i++ {
		reg := RegBAR0 + 4*i
		orig := cfg.Read32(reg)
		cfg.Write32(reg, 0xFFFFFFFF)
		mask := cfg.Read32(reg)
		cfg.Write32(reg, orig)
		if mask == 0 || mask == 0xFFFFFFFF && orig == 0xFFFFFFFF {
			continue // unimplemented (or the read aborted)
		}
		if orig&1 != 0 {
			m := mask &^ 3
			if orig&^3 == 0xFFFFFFFC || m == 0 {
				continue
			}
			if m&0xFFFF0000 == 0 {
				m |= 0xFFFF0000 // 16-bit I/O decoder
			}
			f.BARs[i] = BAR{Kind: BARIO, Addr: uint64(orig &^ 3), Size: uint64(m & -m)}
			continue
		}
		b := BAR{Kind: BARMem32, Prefetchable: orig&8 != 0, Addr: uint64(orig &^ 0xF)}
		m := uint64(mask &^ 0xF)
		switch (orig >> 1) & 3 {
		case 0:
			m |= 0xFFFFFFFF_00000000
		case 2:
			if i+1 >= n {
				continue // a 64-bit BAR cannot start in the last slot
			}
			b.Kind = BARMem64
			hreg := reg + 4
			horig := cfg.Read32(hreg)
			cfg.Write32(hreg, 0xFFFFFFFF)
			hmask := cfg.Read32(hreg)
			cfg.Write32(hreg, horig)
			b.Addr |= uint64(horig) << 32
			m |= uint64(hmask) << 32
			i++ // the next register is the upper half
		default:
			continue // reserved type
		}
		size := m & -m
		if size < 16 || m == 0 {
			continue
		}
		b.Size = size
		f.BARs[b.index(i)] = b
	}
}

// index is where a BAR decoded ending at register i starts.
func (b BAR) index(i int) int {
	if b.Kind == BARMem64 {
		return i - 1
	}
	return i
}

// Allocator hands out bus addresses for memory BARs from [Next, Limit).
// On QEMU q35 the 32-bit PCI hole 0xC0000000..0xFEC00000 is a safe window;
// the caller decides and must not give out overlapping windows.
type Allocator struct {
	Next, Limit uint64
}

// alloc returns size bytes aligned to their size (BARs decode naturally
// aligned, §6.2.5.1) and at least to a page, so each BAR can be mapped on
// its own.
func (a *Allocator) alloc(size uint64) (uint64, error) {
	align := max(size, 4096)
	addr := (a.Next + align - 1) &^ (align - 1)
	if addr < a.Next || addr+size < addr || addr+size > a.Limit {
		return 0, ErrNoSpace
	}
	a.Next = addr + size
	return addr, nil
}

// AssignBARs gives every unassigned memory BAR an address from a (Linux
// pci_assign_resource) and writes it; I/O BARs are left alone. A BAR that
// does not read back what was written is an error.
func (f *Function) AssignBARs(a *Allocator) error {
	cfg := f.Config
	for i := range f.BARs {
		b := &f.BARs[i]
		if (b.Kind != BARMem32 && b.Kind != BARMem64) || b.Addr != 0 {
			continue
		}
		if b.Kind == BARMem32 && b.Size > 1<<31 {
			return ErrBadBAR
		}
		addr, err := a.alloc(b.Size)
		if err != nil {
			return err
		}
		if b.Kind == BARMem32 && addr>>32 != 0 {
			return ErrNoSpace
		}
		reg := RegBAR0 + 4*i
		cmd := cfg.Read16(RegCommand)
		cfg.Write16(RegCommand, cmd&^CmdMemory)
		cfg.Write32(reg, uint32(addr))
		got := uint64(cfg.Read32(reg) &^ 0xF)
		if b.Kind == BARMem64 {
			cfg.Write32(reg+4, uint32(addr>>32))
			got |= uint64(cfg.Read32(reg+4)) << 32
		}
		cfg.Write16(RegCommand, cmd)
		if got != addr {
			return ErrBadBAR
		}
		b.Addr = addr
	}
	return nil
}

// MapBAR maps [off, off+size) of memory BAR i, which must be assigned and
// hold the range.
func (f *Function) MapBAR(m hw.Machine, i int, off uint64, size int) (hw.Window, error) {
	if i < 0 || i >= len(f.BARs) || size <= 0 {
		return nil, ErrBadBAR
	}
	b := f.BARs[i]
	if (b.Kind != BARMem32 && b.Kind != BARMem64) || b.Addr == 0 {
		return nil, ErrBadBAR
	}
	if off > b.Size || uint64(size) > b.Size-off {
		return nil, hw.ErrRange
	}
	return m.MapMMIO(b.Addr+off, size)
}

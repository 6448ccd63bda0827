package bootparams

import "github.com/aster-cvm/aster/frame/tee"

// The writing side, for whoever stands in for the loader: the software TEE
// models and tests.

// HandoffVersion is the boot protocol version NewZeroPage claims (2.15,
// Linux 5.5+, the first with the 64-bit entry's fields settled).
const HandoffVersion = 0x020F

// NewZeroPage returns a zero page with a setup header (magic and version)
// and nothing else set.
func NewZeroPage() *ZeroPage {
	z := new(ZeroPage)
	le.PutUint32(z[OffHeaderMagic:], HeaderMagic)
	le.PutUint16(z[OffHeaderVersion:], HandoffVersion)
	return z
}

// SetCCBlobAddress sets boot_params.cc_blob_address (a u32: the CC blob
// lives below 4 GiB).
func (z *ZeroPage) SetCCBlobAddress(pa uint32) { le.PutUint32(z[OffCCBlobAddress:], pa) }

// SetSetupData links the first setup_data node.
func (z *ZeroPage) SetSetupData(pa uint64) { le.PutUint64(z[OffSetupData:], pa) }

// SetEFISystemTable records a 64-bit firmware's system table in efi_info.
func (z *ZeroPage) SetEFISystemTable(pa uint64) {
	copy(z[OffEFILoaderSig:], EFI64LoaderSignature)
	le.PutUint32(z[OffEFISystab:], uint32(pa))
	le.PutUint32(z[OffEFISystabHi:], uint32(pa>>32))
}

// SetupDataNode encodes one setup_data node.
func SetupDataNode(next uint64, typ uint32, payload []byte) []byte {
	b := make([]byte, setupDataHeader+len(payload))
	le.PutUint64(b, next)
	le.PutUint32(b[8:], typ)
	le.PutUint32(b[12:], uint32(len(payload)))
	copy(b[setupDataHeader:], payload)
	return b
}

// ConfigEntry is one EFI configuration table entry.
type ConfigEntry struct {
	GUID  GUID
	Table uint64
}

// ConfigTable encodes an EFI configuration table.
func ConfigTable(entries []ConfigEntry) []byte {
	b := make([]byte, len(entries)*efiConfigEntrySize)
	for i, e := range entries {
		copy(b[i*efiConfigEntrySize:], e.GUID[:])
		le.PutUint64(b[i*efiConfigEntrySize+16:], e.Table)
	}
	return b
}

// SystemTable encodes the part of an EFI system table a kernel reads at
// boot: the header signature and the configuration tables (n entries at
// tables). Everything else (boot and runtime services, consoles) is zero.
func SystemTable(tables uint64, n int) []byte {
	b := make([]byte, efiSystabSize)
	le.PutUint64(b, EFISystemTableSignature)
	le.PutUint32(b[8:], 2<<16|100)      // revision 2.100
	le.PutUint32(b[12:], efiSystabSize) // header size as read
	SetConfigTables(b, tables, n)
	return b
}

// SetConfigTables points the EFI system table st (as SystemTable makes
// it, or a copy of a real one) at n configuration tables at tables.
func SetConfigTables(st []byte, tables uint64, n int) {
	le.PutUint32(st[efiSystabNrTables:], uint32(n))
	le.PutUint64(st[efiSystabTables:], tables)
}

// Builder lays structures out in a region of guest memory, one after the
// other, as a loader does before it jumps to the kernel.
type Builder struct {
	mem  tee.Memory
	base uint64
	size uint64
	off  uint64
}

// NewBuilder returns a Builder over [base, base+size).
func NewBuilder(mem tee.Memory, base uint64, size int) *Builder {
	return &Builder{mem: mem, base: base, size: uint64(size)}
}

// Put copies data to the next free address aligned to align (a power of
// two) and returns that address.
func (b *Builder) Put(data []byte, align uint64) (uint64, error) {
	off := (b.off + align - 1) &^ (align - 1)
	if off+uint64(len(data)) > b.size {
		return 0, bad("loader region of %d bytes is full", b.size)
	}
	dst := b.mem(b.base+off, len(data))
	if len(dst) != len(data) {
		return 0, bad("loader region at %#x is outside memory", b.base+off)
	}
	copy(dst, data)
	b.off = off + uint64(len(data))
	return b.base + off, nil
}

// Region is guest-physical memory [Base, Base+len(Bytes)) over one byte
// slice, as a tee.Memory: for a loader that lays a hand-off out in a
// buffer, and for tests.
type Region struct {
	Base  uint64
	Bytes []byte
}

// Memory returns [pa, pa+n) if the region holds all of it, else nil.
func (r Region) Memory(pa uint64, n int) []byte {
	if n < 0 || pa < r.Base || pa-r.Base > uint64(len(r.Bytes)) || uint64(n) > uint64(len(r.Bytes))-(pa-r.Base) {
		return nil
	}
	return r.Bytes[pa-r.Base : pa-r.Base+uint64(n)]
}

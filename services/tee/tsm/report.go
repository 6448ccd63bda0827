package tsm

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/configfs"
)

// Attribute names (include/linux/tsm.h enum tsm_attr_index and
// tsm_bin_attr_index, as report.c names the files).
const (
	AttrGeneration     = "generation"
	AttrProvider       = "provider"
	AttrPrivlevel      = "privlevel"
	AttrPrivlevelFloor = "privlevel_floor"
	AttrInBlob         = "inblob"
	AttrOutBlob        = "outblob"
	AttrAuxBlob        = "auxblob"
	AttrManifestBlob   = "manifestblob"
)

// Limits of include/linux/tsm.h.
const (
	// InBlobMax is TSM_REPORT_INBLOB_MAX: the largest nonce.
	InBlobMax = 64
	// OutBlobMax is TSM_REPORT_OUTBLOB_MAX (SZ_32K in released kernels;
	// a later series raises it): larger evidence reads as EFBIG.
	OutBlobMax = 32 << 10
	// PrivlevelMax is TSM_REPORT_PRIVLEVEL_MAX, the highest SNP VMPL.
	PrivlevelMax = 3
)

// Desc is what a report is asked for with (struct tsm_report_desc).
type Desc struct {
	// InBlob is what user space wrote to inblob (0..InBlobMax bytes; at
	// least one, or generation fails before the provider is asked).
	InBlob []byte
	// Privlevel is what it wrote to privlevel (0 if never written).
	Privlevel uint
}

// Blobs are a generated report's outputs; Aux and Manifest may be empty.
type Blobs struct {
	Out, Aux, Manifest []byte
}

// Provider makes reports (struct tsm_report_ops): the TEE's guest driver.
type Provider interface {
	// Name is the provider attribute without its newline (the Linux
	// driver's KBUILD_MODNAME: "tdx_guest", "sev_guest").
	Name() string
	// Visible reports whether report entries show the attribute called
	// name (report_attr_visible, report_bin_attr_visible).
	Visible(name string) bool
	// PrivlevelFloor is the lowest privlevel accepted (privlevel_floor).
	PrivlevelFloor() uint
	// Generate makes the blobs for d (report_new). Its error should be a
	// linux.Errno, which reading outblob returns; others become EIO.
	Generate(d Desc) (Blobs, error)
}

// subsystem is the report subsystem's state.
type subsystem struct {
	// mu is report.c's tsm_rwsem: held for reading to show attributes
	// and for the fast path of reading blobs, for writing to change an
	// entry and to generate. It guards every entry's fields.
	mu sync.RWMutex
	p  Provider // nil: no provider registered (mkdir is ENXIO)
}

// New returns the "tsm" configfs subsystem with its "report" group
// (tsm_report_init) over p; with p nil, mkdir in report fails with ENXIO
// as it does on Linux before a provider registers.
func New(p Provider) *configfs.Group {
	s := &subsystem{p: p}
	return &configfs.Group{Name: "tsm", Groups: []*configfs.Group{{
		Name: "report",
		Make: s.makeEntry,
	}}}
}

// entry is one report instance (struct tsm_report_state).
type entry struct {
	s *subsystem

	// All fields are protected by s.mu.
	desc     Desc
	writeGen uint64 // successful writes
	readGen  uint64 // the writeGen blobs were made for
	blobs    *Blobs // nil: none generated (or the last attempt failed)
}

// makeEntry is mkdir NAME (tsm_report_make_item): ENXIO without a
// provider; the new entry is at generation 0 with no inblob.
func (s *subsystem) makeEntry(name string) (configfs.Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.p == nil {
		return nil, linux.ENXIO
	}
	e := &entry{s: s}
	return &item{e: e, attrs: e.attributes(s.p)}, nil
}

// item is an entry as configfs holds it.
type item struct {
	e     *entry
	attrs []*configfs.Attribute
}

// Attributes implements configfs.Item.
func (it *item) Attributes() []*configfs.Attribute { return it.attrs }

// attributes returns the files p makes visible, in report.c's order.
func (e *entry) attributes(p Provider) []*configfs.Attribute {
	all := []*configfs.Attribute{
		{Name: AttrGeneration, Mode: 0o444, Show: e.showGeneration},
		{Name: AttrProvider, Mode: 0o444, Show: e.showProvider},
		{Name: AttrPrivlevel, Mode: 0o200, Store: e.storePrivlevel},
		{Name: AttrPrivlevelFloor, Mode: 0o444, Show: e.showPrivlevelFloor},
		{Name: AttrInBlob, Mode: 0o200, Binary: true, MaxSize: InBlobMax, Store: e.storeInBlob},
		{Name: AttrOutBlob, Mode: 0o444, Binary: true, MaxSize: OutBlobMax,
			Show: func() ([]byte, error) { return e.read(func(b *Blobs) []byte { return b.Out }) }},
		{Name: AttrAuxBlob, Mode: 0o444, Binary: true, MaxSize: OutBlobMax,
			Show: func() ([]byte, error) { return e.read(func(b *Blobs) []byte { return b.Aux }) }},
		{Name: AttrManifestBlob, Mode: 0o444, Binary: true, MaxSize: OutBlobMax,
			Show: func() ([]byte, error) { return e.read(func(b *Blobs) []byte { return b.Manifest }) }},
	}
	var out []*configfs.Attribute
	for _, a := range all {
		if p.Visible(a.Name) {
			out = append(out, a)
		}
	}
	return out
}

// advance counts a write (try_advance_write_generation): EBUSY if the
// count would reach the generation last read modulo 2^64, so that a
// configuration never read is not silently replaced by the same number.
// Preconditions: s.mu held for writing.
func (e *entry) advance() error {
	if e.writeGen == e.readGen-1 {
		return linux.EBUSY
	}
	e.writeGen++
	return nil
}

// storeInBlob is inblob's write (tsm_report_inblob_write): configfs
// bounded it to InBlobMax bytes.
func (e *entry) storeInBlob(b []byte) error {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if err := e.advance(); err != nil {
		return err
	}
	e.desc.InBlob = bytes.Clone(b)
	return nil
}

// storePrivlevel is privlevel's write (tsm_report_privlevel_store): a
// number as kstrtouint(buf, 0) reads it, within privlevel_floor and
// PrivlevelMax (EINVAL).
func (e *entry) storePrivlevel(b []byte) error {
	v, err := kstrtouint(b)
	if err != nil {
		return err
	}
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if e.s.p == nil {
		return linux.ENXIO
	}
	if v < uint64(e.s.p.PrivlevelFloor()) || v > PrivlevelMax {
		return linux.EINVAL
	}
	if err := e.advance(); err != nil {
		return err
	}
	e.desc.Privlevel = uint(v)
	return nil
}

// showGeneration is generation's show: the write count.
func (e *entry) showGeneration() ([]byte, error) {
	e.s.mu.RLock()
	defer e.s.mu.RUnlock()
	return fmt.Appendf(nil, "%d\n", e.writeGen), nil
}

// showProvider is provider's show: the provider's name and a newline
// (clients compare the whole text, newline included).
func (e *entry) showProvider() ([]byte, error) {
	e.s.mu.RLock()
	defer e.s.mu.RUnlock()
	if e.s.p == nil {
		return nil, linux.ENXIO
	}
	return []byte(e.s.p.Name() + "\n"), nil
}

// showPrivlevelFloor is privlevel_floor's show.
func (e *entry) showPrivlevelFloor() ([]byte, error) {
	e.s.mu.RLock()
	defer e.s.mu.RUnlock()
	if e.s.p == nil {
		return nil, linux.ENXIO
	}
	return fmt.Appendf(nil, "%d\n", e.s.p.PrivlevelFloor()), nil
}

// read returns one of the blobs for the current generation
// (tsm_report_read): from the cache when it was made for this
// generation, else generated now under the write lock (unless another
// reader did it meanwhile). EINVAL before inblob was written.
func (e *entry) read(pick func(*Blobs) []byte) ([]byte, error) {
	s := e.s
	s.mu.RLock()
	if len(e.desc.InBlob) == 0 {
		s.mu.RUnlock()
		return nil, linux.EINVAL
	}
	if e.blobs != nil && e.readGen == e.writeGen {
		b := pick(e.blobs)
		s.mu.RUnlock()
		return b, nil
	}
	s.mu.RUnlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil, linux.ENXIO
	}
	if len(e.desc.InBlob) == 0 {
		return nil, linux.EINVAL
	}
	if e.blobs != nil && e.readGen == e.writeGen {
		return pick(e.blobs), nil
	}
	e.blobs = nil
	d := Desc{InBlob: bytes.Clone(e.desc.InBlob), Privlevel: e.desc.Privlevel}
	b, err := s.p.Generate(d)
	if err != nil {
		var errno linux.Errno
		if errors.As(err, &errno) {
			return nil, errno
		}
		return nil, linux.EIO
	}
	e.blobs = &b
	e.readGen = e.writeGen
	return pick(e.blobs), nil
}

// kstrtouint parses b as Linux's kstrtouint(s, 0, &v) does (lib/kstrtox.c):
// an optional "+", then hexadecimal after "0x", octal after "0", decimal
// otherwise, and at most one trailing newline; the text ends at a NUL
// (configfs terminates the buffer with one). EINVAL for anything else,
// ERANGE above 2^32-1.
func kstrtouint(b []byte) (uint64, error) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimPrefix(b, []byte("+"))
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	base := uint64(10)
	switch {
	case len(b) >= 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X'):
		base, b = 16, b[2:]
	case len(b) >= 2 && b[0] == '0':
		base, b = 8, b[1:]
	}
	if len(b) == 0 {
		return 0, linux.EINVAL
	}
	var v uint64
	for _, c := range b {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, linux.EINVAL
		}
		if d >= base {
			return 0, linux.EINVAL
		}
		v = v*base + d
		if v > 1<<32-1 {
			return 0, linux.ERANGE
		}
	}
	return v, nil
}

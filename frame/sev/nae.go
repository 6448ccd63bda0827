package sev

import (
	"encoding/binary"
	"fmt"

	"github.com/aster-cvm/aster/frame/tee"
)

// The non-automatic exits a #VC handler issues ([GHCB] §4.1; Linux
// arch/x86/coco/sev/vc-handle.c). Each one is a complete GHCB call under
// p.mu: begin (invalidate), inputs, exit, outputs read only if valid.

// IOIO exit information bits ([GHCB] §4.1.3 / AMD APM vol. 2 §15.10.2;
// Linux IOIO_TYPE_IN, IOIO_DATA_8/16/32).
const (
	ioioIn     = 1 << 0
	ioioData8  = 1 << 4
	ioioData16 = 1 << 5
	ioioData32 = 1 << 6
	ioioPortSh = 16
)

// IOIOInfo encodes SW_EXITINFO1 of a non-string IN or OUT of size bytes.
func IOIOInfo(port uint16, size int, in bool) (uint64, error) {
	var v uint64
	switch size {
	case 1:
		v = ioioData8
	case 2:
		v = ioioData16
	case 4:
		v = ioioData32
	default:
		return 0, fmt.Errorf("sev: I/O size %d", size)
	}
	if in {
		v |= ioioIn
	}
	return v | uint64(port)<<ioioPortSh, nil
}

// CPUID returns CPUID(leaf, sub). With a CPUID page (the firmware-checked
// table, TEE-REFERENCE §2.9) the answer comes from it and never from the
// hypervisor; a leaf the table lacks reads as zeros. Without one, it asks
// the hypervisor (NAE 0x72; only for a guest given no CPUID page).
func (p *Platform) CPUID(leaf, sub uint32) (a, b, c, d uint32, err error) {
	if p.cpuid != nil {
		a, b, c, d, _ = p.cpuid.Lookup(leaf, sub)
		return a, b, c, d, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	p.conn.begin()
	g.Set(FieldRAX, uint64(leaf))
	g.Set(FieldRCX, uint64(sub))
	if leaf == 0xD {
		g.Set(FieldXCR0, p.xcr0)
	}
	if err := p.conn.exit(ExitCPUID, 0, 0); err != nil {
		return 0, 0, 0, 0, err
	}
	var out [4]uint64
	for i, f := range []Field{FieldRAX, FieldRBX, FieldRCX, FieldRDX} {
		if out[i], err = g.Get(f); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	return uint32(out[0]), uint32(out[1]), uint32(out[2]), uint32(out[3]), nil
}

// IOIn emulates IN of size bytes (1, 2, 4) from port with the IOIO NAE
// event (0x7B): SW_EXITINFO1 the IOIO information, the data in RAX ([GHCB]
// 56421 §4.1.3; Linux vc_handle_ioio()). The #VC handler calls it for a
// trapped IN; the frame's port accessors call it directly
// (frame/device.PlatformIO). The answer is cut to size.
func (p *Platform) IOIn(port uint16, size int) (uint32, error) {
	info, err := IOIOInfo(port, size, true)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conn.begin()
	if err := p.conn.exit(ExitIOIO, info, 0); err != nil {
		return 0, err
	}
	v, err := p.conn.g.Get(FieldRAX)
	return uint32(v & sizeMask(size)), err
}

// IOOut emulates OUT of size bytes of v to port (NAE 0x7B, the data in
// RAX; Linux vc_handle_ioio()).
func (p *Platform) IOOut(port uint16, size int, v uint32) error {
	info, err := IOIOInfo(port, size, false)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conn.begin()
	p.conn.g.Set(FieldRAX, uint64(v)&sizeMask(size))
	return p.conn.exit(ExitIOIO, info, 0)
}

// ReadMSR emulates RDMSR (NAE 0x7C, SW_EXITINFO1 = 0).
func (p *Platform) ReadMSR(msr uint32) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	p.conn.begin()
	g.Set(FieldRCX, uint64(msr))
	if err := p.conn.exit(ExitMSR, 0, 0); err != nil {
		return 0, err
	}
	lo, err := g.Get(FieldRAX)
	if err != nil {
		return 0, err
	}
	hi, err := g.Get(FieldRDX)
	return hi<<32 | lo&0xFFFFFFFF, err
}

// WriteMSR emulates WRMSR (NAE 0x7C, SW_EXITINFO1 = 1).
func (p *Platform) WriteMSR(msr uint32, v uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	p.conn.begin()
	g.Set(FieldRCX, uint64(msr))
	g.Set(FieldRAX, v&0xFFFFFFFF)
	g.Set(FieldRDX, v>>32)
	return p.conn.exit(ExitMSR, 1, 0)
}

// MMIO emulates the MMIO instruction at the start of insn, which accessed
// guest-physical address gpa (the #VC handler derives it from the faulting
// address and the page tables), on the general registers regs (0 RAX ...
// 15 R15). It returns the instruction length, by which the handler
// advances RIP. Data passes through the GHCB shared buffer, SW_SCRATCH
// (NAE 0x80000001 / 0x80000002; Linux vc_handle_mmio()).
func (p *Platform) MMIO(gpa uint64, insn []byte, regs *[16]uint64) (int, error) {
	in, err := DecodeMMIO(insn)
	if err != nil {
		return 0, err
	}
	if in.Write {
		return in.Len, p.MMIOWrite(gpa, in.Size, in.source(regs))
	}
	v, err := p.MMIORead(gpa, in.Size)
	if err != nil {
		return 0, err
	}
	in.load(regs, v)
	return in.Len, nil
}

// checkMMIO checks an MMIO access: 1, 2, 4 or 8 bytes, within one page
// (Linux vc_do_mmio() hands the hypervisor one physical address, valid
// for one page only).
func checkMMIO(gpa uint64, size int) error {
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return fmt.Errorf("sev: MMIO size %d", size)
	}
	if gpa%tee.PageSize+uint64(size) > tee.PageSize {
		return fmt.Errorf("sev: MMIO at %#x size %d straddles a page", gpa, size)
	}
	return nil
}

// MMIORead reads size (1, 2, 4, 8) bytes of the device register at
// guest-physical address gpa (C-bit clear: device memory is never
// encrypted) with the MMIO read NAE event: SW_EXITINFO1 = gpa,
// SW_EXITINFO2 = size, SW_SCRATCH = the GPA of the GHCB's shared buffer,
// where the hypervisor leaves the data ([GHCB] 56421 §4.1.5, Table 6;
// Linux vc_do_mmio()). The #VC handler calls it for a trapped load; the
// frame's typed MMIO accessors call it directly (frame/device.PlatformIO).
// The buffer is read once and cut to size: the hypervisor may have
// written more.
func (p *Platform) MMIORead(gpa uint64, size int) (uint64, error) {
	if err := checkMMIO(gpa, size); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	buf := g.SharedBuffer()[:8]
	p.conn.begin()
	g.Set(FieldSWScratch, p.conn.gpa+GHCBSharedBuffer)
	if err := p.conn.exit(ExitMMIORead, gpa, uint64(size)); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(buf) & sizeMask(size), nil
}

// MMIOWrite writes size (1, 2, 4, 8) bytes of v to the device register at
// gpa with the MMIO write NAE event, the data in the shared buffer
// SW_SCRATCH names ([GHCB] 56421 §4.1.5; Linux vc_do_mmio()).
func (p *Platform) MMIOWrite(gpa uint64, size int, v uint64) error {
	if err := checkMMIO(gpa, size); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	buf := g.SharedBuffer()[:8]
	p.conn.begin()
	g.Set(FieldSWScratch, p.conn.gpa+GHCBSharedBuffer)
	binary.LittleEndian.PutUint64(buf, v&sizeMask(size))
	return p.conn.exit(ExitMMIOWrite, gpa, uint64(size))
}

// IOVia names the device I/O path for logs (frame/device.PlatformIO).
func (p *Platform) IOVia() string { return "the GHCB" }

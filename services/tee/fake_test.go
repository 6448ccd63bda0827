package tee

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/snp"
)

// userMem is user memory as byte slices: regions at fixed addresses, and
// EFAULT anywhere else (the Go form of a process's address space).
type userMem struct{ regions map[uint64][]byte }

func newUserMem() *userMem { return &userMem{regions: map[uint64][]byte{}} }

// alloc maps n zero bytes at addr and returns them.
func (u *userMem) alloc(addr uint64, n int) []byte {
	b := make([]byte, n)
	u.regions[addr] = b
	return b
}

func (u *userMem) find(addr uint64, n int) ([]byte, error) {
	for base, b := range u.regions {
		if addr >= base && addr+uint64(n) <= base+uint64(len(b)) && addr+uint64(n) >= addr {
			return b[addr-base : addr-base+uint64(n)], nil
		}
	}
	return nil, linux.EFAULT
}

func (u *userMem) CopyIn(addr uint64, dst []byte) error {
	b, err := u.find(addr, len(dst))
	if err == nil {
		copy(dst, b)
	}
	return err
}

func (u *userMem) CopyOut(addr uint64, src []byte) error {
	b, err := u.find(addr, len(src))
	if err == nil {
		copy(b, src)
	}
	return err
}

// fakePSP is a hypervisor and secure processor behind snp.Channel: it opens
// the guest's message with the VMPCK and answers report and key requests;
// busy makes it answer BUSY that many times, needPages makes an extended
// request with fewer pages fail with INVALID_LEN, fwErr fails the request
// with a firmware error.
type fakePSP struct {
	key       []byte
	busy      int
	needPages uint64
	certs     []byte
	fwErr     uint64
	skew      uint64 // added to the response's sequence number
	requests  int
}

func (f *fakePSP) GuestRequest(ext bool, req, resp, certs []byte) (uint64, uint64, error) {
	f.requests++
	if f.busy > 0 {
		f.busy--
		return snp.VMMErrBusy << 32, 0, nil
	}
	if ext && uint64(len(certs)/4096) < f.needPages {
		return snp.VMMErrInvalidLen << 32, f.needPages, nil
	}
	if f.fwErr != 0 {
		return f.fwErr, 0, nil
	}
	page := make([]byte, snp.MsgPageSize)
	copy(page, req)
	h, pt, err := snp.OpenMessage(page, f.key)
	if err != nil {
		return 0, 0, fmt.Errorf("fake PSP: %w", err)
	}
	var out []byte
	switch h.Type {
	case snp.MsgReportReq:
		ud, vmpl, _, err := snp.DecodeReportReq(pt)
		if err != nil {
			return 0, 0, err
		}
		r := snp.Report{Version: 2, VMPL: vmpl, SignatureAlgo: 1, ReportData: ud}
		out = make([]byte, snp.ReportRspHdrSize)
		binary.LittleEndian.PutUint32(out[4:], snp.ReportSize)
		out = append(out, r.Marshal()...)
	case snp.MsgKeyReq:
		out = make([]byte, snp.KeyRspSize)
		copy(out[0x20:], bytes.Repeat([]byte{0x4B}, 32))
	default:
		return 0x16, 0, nil
	}
	if err := snp.SealMessage(resp, f.key, h.Seqno+1+f.skew, h.Type+1, h.Version, h.VMPCK, out); err != nil {
		return 0, 0, err
	}
	copy(certs, f.certs)
	return 0, 0, nil
}

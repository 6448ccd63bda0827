package tee

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/snp"
)

// User addresses of the test process.
const (
	argAddr   = 0x10000
	reqAddr   = 0x20000
	respAddr  = 0x30000
	certsAddr = 0x40000
)

type sevFixture struct {
	dev  *SEVGuest
	psp  *fakePSP
	mem  *userMem
	arg  []byte
	req  []byte
	resp []byte
}

func newSEVFixture(t *testing.T) *sevFixture {
	t.Helper()
	key := bytes.Repeat([]byte{0x11}, 32)
	s := snp.Secrets{Version: 3}
	copy(s.VMPCK[0][:], key)
	psp := &fakePSP{key: key}
	m, err := snp.NewMessenger(snp.MessengerConfig{Channel: psp, Secrets: s.Marshal(), BusyRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	f := &sevFixture{dev: NewSEVGuest(m), psp: psp, mem: newUserMem()}
	f.arg = f.mem.alloc(argAddr, guestRequestSize)
	f.req = f.mem.alloc(reqAddr, extReportReqSize)
	f.resp = f.mem.alloc(respAddr, reportRespSize)
	f.mem.alloc(certsAddr, snp.MaxCertsSize)
	f.setArg(1, reqAddr, respAddr)
	return f
}

// setArg writes struct snp_guest_request_ioctl, with exitinfo2 set to a
// marker that shows whether the kernel wrote it back.
func (f *sevFixture) setArg(version uint8, req, resp uint64) {
	clear(f.arg)
	f.arg[0] = version
	binary.LittleEndian.PutUint64(f.arg[8:], req)
	binary.LittleEndian.PutUint64(f.arg[16:], resp)
	binary.LittleEndian.PutUint64(f.arg[24:], 0xDEADBEEF)
}

func (f *sevFixture) exitInfo2() uint64 { return binary.LittleEndian.Uint64(f.arg[24:]) }

func (f *sevFixture) ioctl(cmd uint32) error {
	_, err := f.dev.Ioctl(f.mem, cmd, argAddr)
	return err
}

func TestSEVGetReport(t *testing.T) {
	f := newSEVFixture(t)
	copy(f.req, "nonce")
	if err := f.ioctl(SNPGetReport); err != nil {
		t.Fatal(err)
	}
	if st, n := binary.LittleEndian.Uint32(f.resp), binary.LittleEndian.Uint32(f.resp[4:]); st != 0 || n != snp.ReportSize {
		t.Errorf("response status %#x size %#x", st, n)
	}
	if !bytes.HasPrefix(f.resp[0x20+snp.ReportDataOffset:], []byte("nonce")) {
		t.Error("REPORT_DATA not echoed")
	}
	if f.exitInfo2() != 0xDEADBEEF {
		t.Errorf("exitinfo2 written back on success: %#x", f.exitInfo2())
	}
}

func TestSEVGetDerivedKey(t *testing.T) {
	f := newSEVFixture(t)
	if err := f.ioctl(SNPGetDerivedKey); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.resp[0x20:0x40], bytes.Repeat([]byte{0x4B}, 32)) || f.resp[0x40] != 0 {
		t.Errorf("derived key response % x", f.resp[:0x48])
	}
}

func TestSEVExtReportInvalidLen(t *testing.T) {
	f := newSEVFixture(t)
	f.psp.needPages = 2
	f.psp.certs = bytes.Repeat([]byte{0xCE}, 100)
	// go-sev-guest's probe: no buffer. The answer is EIO, vmm_error
	// INVALID_LEN and the size needed in certs_len.
	if err := f.ioctl(SNPGetExtReport); err != linux.EIO {
		t.Fatalf("probe: %v, want EIO", err)
	}
	if f.exitInfo2() != 1<<32 {
		t.Errorf("exitinfo2 %#x, want 1<<32", f.exitInfo2())
	}
	n := binary.LittleEndian.Uint32(f.req[extCertsLen:])
	if n != 2*4096 {
		t.Fatalf("certs_len %d, want 8192", n)
	}
	// The sequence number was consumed by the plain re-issue: the
	// channel still works. Now with the buffer.
	binary.LittleEndian.PutUint64(f.req[extCertsAddress:], certsAddr)
	f.setArg(1, reqAddr, respAddr)
	if err := f.ioctl(SNPGetExtReport); err != nil {
		t.Fatal(err)
	}
	certs, _ := f.mem.find(certsAddr, int(n))
	if !bytes.Equal(certs[:100], f.psp.certs) || certs[100] != 0 {
		t.Error("certificates not copied out")
	}
	if binary.LittleEndian.Uint32(f.resp[4:]) != snp.ReportSize {
		t.Error("no report")
	}
}

func TestSEVExtReportBadCertsLen(t *testing.T) {
	for _, n := range []uint32{100, 4096 + 1, 5 * 4096} {
		f := newSEVFixture(t)
		binary.LittleEndian.PutUint64(f.req[extCertsAddress:], certsAddr)
		binary.LittleEndian.PutUint32(f.req[extCertsLen:], n)
		if err := f.ioctl(SNPGetExtReport); err != linux.EINVAL {
			t.Errorf("certs_len %d: %v, want EINVAL", n, err)
		}
		if f.exitInfo2() != noFWCall {
			t.Errorf("certs_len %d: exitinfo2 %#x, want SEV_RET_NO_FW_CALL", n, f.exitInfo2())
		}
		if f.psp.requests != 0 {
			t.Errorf("certs_len %d: the request reached the firmware", n)
		}
	}
	// A certificate buffer the process does not own.
	f := newSEVFixture(t)
	binary.LittleEndian.PutUint64(f.req[extCertsAddress:], 0x900000)
	binary.LittleEndian.PutUint32(f.req[extCertsLen:], 4096)
	if err := f.ioctl(SNPGetExtReport); err != linux.EFAULT {
		t.Errorf("unmapped certificate buffer: %v, want EFAULT", err)
	}
}

func TestSEVBadArguments(t *testing.T) {
	for _, c := range []struct {
		name      string
		setup     func(f *sevFixture)
		cmd       uint32
		arg       uint64
		want      error
		exitInfo2 uint64
	}{
		{"unmapped arg", nil, SNPGetReport, 0x999000, linux.EFAULT, 0xDEADBEEF},
		{"msg_version 0", func(f *sevFixture) { f.setArg(0, reqAddr, respAddr) }, SNPGetReport, argAddr, linux.EINVAL, 0xDEADBEEF},
		{"msg_version 2", func(f *sevFixture) { f.setArg(2, reqAddr, respAddr) }, SNPGetReport, argAddr, linux.EINVAL, 0xDEADBEEF},
		{"null req_data", func(f *sevFixture) { f.setArg(1, 0, respAddr) }, SNPGetReport, argAddr, linux.EINVAL, noFWCall},
		{"null resp_data", func(f *sevFixture) { f.setArg(1, reqAddr, 0) }, SNPGetDerivedKey, argAddr, linux.EINVAL, noFWCall},
		{"unmapped req_data", func(f *sevFixture) { f.setArg(1, 0x777000, respAddr) }, SNPGetReport, argAddr, linux.EFAULT, noFWCall},
		{"unmapped resp_data", func(f *sevFixture) { f.setArg(1, reqAddr, 0x777000) }, SNPGetReport, argAddr, linux.EFAULT, 0xDEADBEEF},
		{"short resp_data", func(f *sevFixture) { f.setArg(1, reqAddr, respAddr+100) }, SNPGetReport, argAddr, linux.EFAULT, 0xDEADBEEF},
		{"unknown command", nil, 0xC0205303, argAddr, linux.ENOTTY, noFWCall},
		{"wrong size", nil, 0xC0185300, argAddr, linux.ENOTTY, noFWCall},
		{"tdx command", nil, TDXGetReport0, argAddr, linux.ENOTTY, noFWCall},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newSEVFixture(t)
			if c.setup != nil {
				c.setup(f)
			}
			_, err := f.dev.Ioctl(f.mem, c.cmd, c.arg)
			if err != c.want {
				t.Errorf("err %v, want %v", err, c.want)
			}
			if f.exitInfo2() != c.exitInfo2 {
				t.Errorf("exitinfo2 %#x, want %#x", f.exitInfo2(), c.exitInfo2)
			}
		})
	}
}

func TestSEVFirmwareError(t *testing.T) {
	f := newSEVFixture(t)
	f.psp.fwErr = 0x16
	if err := f.ioctl(SNPGetReport); err != linux.EIO {
		t.Fatalf("%v, want EIO", err)
	}
	if fw, vmm := binary.LittleEndian.Uint32(f.arg[24:]), binary.LittleEndian.Uint32(f.arg[28:]); fw != 0x16 || vmm != 0 {
		t.Errorf("fw_error %#x vmm_error %#x", fw, vmm)
	}
	// The key is gone (no sequence number may be reused): ENOTTY from now
	// on, as Linux answers once the VMPCK is disabled.
	f.setArg(1, reqAddr, respAddr)
	if err := f.ioctl(SNPGetReport); err != linux.ENOTTY {
		t.Errorf("after the failure: %v, want ENOTTY", err)
	}
}

func TestSEVBusy(t *testing.T) {
	f := newSEVFixture(t)
	f.psp.busy = 2 // within the retries: the identical message goes again
	if err := f.ioctl(SNPGetReport); err != nil {
		t.Fatalf("busy twice: %v", err)
	}
	f.psp.busy = 100
	if err := f.ioctl(SNPGetReport); err != linux.ETIMEDOUT {
		t.Fatalf("busy for good: %v, want ETIMEDOUT", err)
	}
	if f.exitInfo2() != 2<<32 {
		t.Errorf("exitinfo2 %#x, want BUSY", f.exitInfo2())
	}
}

// TestSEVBadResponse: a response that does not answer the request (here:
// a replayed sequence number) is EBADMSG, and the key is wiped.
func TestSEVBadResponse(t *testing.T) {
	f := newSEVFixture(t)
	f.psp.skew = 2
	if err := f.ioctl(SNPGetReport); !errors.Is(err, ebadmsg) {
		t.Fatalf("replayed response: %v, want EBADMSG", err)
	}
	if err := f.ioctl(SNPGetReport); err != linux.ENOTTY {
		t.Errorf("after the failure: %v, want ENOTTY", err)
	}
}

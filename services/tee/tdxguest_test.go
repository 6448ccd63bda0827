package tee

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/tdx"
)

// fakeTD is a TDXEvidence: the TDREPORT echoes REPORTDATA at its offset,
// the quote is "QUOTE" and the TDREPORT's first bytes.
type fakeTD struct {
	err      error
	quoteErr error
	quote    []byte
}

func (f *fakeTD) Report(data *[tdx.ReportDataSize]byte) (*[tdx.ReportSize]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	r := new([tdx.ReportSize]byte)
	r[0] = tdx.ReportTypeTDX
	copy(r[tdx.ReportOffReportData:], data[:])
	return r, nil
}

func (f *fakeTD) Quote(tdreport *[tdx.ReportSize]byte) ([]byte, error) {
	if f.quoteErr != nil {
		return nil, f.quoteErr
	}
	if f.quote != nil {
		return f.quote, nil
	}
	return append([]byte("QUOTE"), tdreport[tdx.ReportOffReportData:tdx.ReportOffReportData+8]...), nil
}

func TestTDXGetReport0(t *testing.T) {
	mem := newUserMem()
	req := mem.alloc(argAddr, tdxReportReqSize)
	copy(req, "nonce")
	dev := NewTDXGuest(&fakeTD{})
	if _, err := dev.Ioctl(mem, TDXGetReport0, argAddr); err != nil {
		t.Fatal(err)
	}
	r, err := tdx.ParseReport(req[64:])
	if err != nil || !bytes.HasPrefix(r.ReportData[:], []byte("nonce")) {
		t.Errorf("TDREPORT: %v", err)
	}
}

func TestTDXErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		td   *fakeTD
		size int // bytes mapped at argAddr
		cmd  uint32
		want error
	}{
		{"unmapped", &fakeTD{}, 0, TDXGetReport0, linux.EFAULT},
		{"reportdata only", &fakeTD{}, 64, TDXGetReport0, linux.EFAULT},
		{"invalid operand", &fakeTD{err: ErrTDXInvalidOperand}, tdxReportReqSize, TDXGetReport0, linux.EINVAL},
		{"operand busy", &fakeTD{err: ErrTDXBusy}, tdxReportReqSize, TDXGetReport0, linux.EBUSY},
		{"other failure", &fakeTD{err: errors.New("tdcall failed")}, tdxReportReqSize, TDXGetReport0, linux.EIO},
		{"wrong size", &fakeTD{}, tdxReportReqSize, 0xC4005401, linux.ENOTTY},
		{"unknown nr", &fakeTD{}, tdxReportReqSize, 0xC4405403, linux.ENOTTY},
		{"sev command", &fakeTD{}, tdxReportReqSize, SNPGetReport, linux.ENOTTY},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := newUserMem()
			if c.size > 0 {
				mem.alloc(argAddr, c.size)
			}
			if _, err := NewTDXGuest(c.td).Ioctl(mem, c.cmd, argAddr); err != c.want {
				t.Errorf("err %v, want %v", err, c.want)
			}
		})
	}
}

// quoteFixture maps go-tdx-guest's request: {buf, len} at argAddr, the
// buffer (header + 16 KiB) at reqAddr.
func quoteFixture(version uint64, inLen uint32, n uint64) (*userMem, []byte) {
	mem := newUserMem()
	arg := mem.alloc(argAddr, tdxQuoteReqSize)
	binary.LittleEndian.PutUint64(arg, reqAddr)
	binary.LittleEndian.PutUint64(arg[8:], n)
	buf := mem.alloc(reqAddr, quoteHdrSize+16<<10)
	binary.LittleEndian.PutUint64(buf, version)
	binary.LittleEndian.PutUint32(buf[0x10:], inLen)
	copy(buf[quoteHdrSize+tdx.ReportOffReportData:], "abcdefgh")
	return mem, buf
}

func TestTDXGetQuote(t *testing.T) {
	mem, buf := quoteFixture(1, 1024, 16<<10)
	dev := NewTDXGuest(&fakeTD{})
	if _, err := dev.Ioctl(mem, TDXGetQuote, argAddr); err != nil {
		t.Fatal(err)
	}
	st, outLen := binary.LittleEndian.Uint64(buf[8:]), binary.LittleEndian.Uint32(buf[0x14:])
	if st != 0 || outLen != 13 || string(buf[quoteHdrSize:quoteHdrSize+13]) != "QUOTEabcdefgh" {
		t.Errorf("status %#x out_len %d data %q", st, outLen, buf[quoteHdrSize:quoteHdrSize+13])
	}
	// The host's failure is a status, not an errno.
	mem, buf = quoteFixture(1, 1024, 16<<10)
	if _, err := NewTDXGuest(&fakeTD{quoteErr: errors.New("no QGS")}).Ioctl(mem, TDXGetQuote, argAddr); err != nil {
		t.Fatal(err)
	}
	if st := binary.LittleEndian.Uint64(buf[8:]); st != quoteStatusError {
		t.Errorf("failed quote: status %#x", st)
	}
	// A quote larger than the buffer.
	mem, buf = quoteFixture(1, 1024, 2048)
	if _, err := NewTDXGuest(&fakeTD{quote: make([]byte, 4096)}).Ioctl(mem, TDXGetQuote, argAddr); err != nil {
		t.Fatal(err)
	}
	if st := binary.LittleEndian.Uint64(buf[8:]); st != quoteStatusError {
		t.Errorf("oversized quote: status %#x", st)
	}
	for _, c := range []struct {
		name    string
		version uint64
		inLen   uint32
		n       uint64
		want    error
	}{
		{"version 2", 2, 1024, 16 << 10, linux.EINVAL},
		{"in_len 64", 1, 64, 16 << 10, linux.EINVAL},
		{"len too small", 1, 1024, 1000, linux.EINVAL},
		{"len too large", 1, 1024, 1 << 20, linux.EINVAL},
	} {
		mem, _ := quoteFixture(c.version, c.inLen, c.n)
		if _, err := dev.Ioctl(mem, TDXGetQuote, argAddr); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	mem, _ = quoteFixture(1, 1024, 16<<10)
	delete(mem.regions, reqAddr)
	if _, err := dev.Ioctl(mem, TDXGetQuote, argAddr); err != linux.EFAULT {
		t.Errorf("unmapped buffer: %v, want EFAULT", err)
	}
}

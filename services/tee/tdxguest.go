package tee

import (
	"encoding/binary"
	"errors"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/tdx"
	"github.com/aster-cvm/aster/services/vfs"
)

// The /dev/tdx_guest ioctls (TEE-REFERENCE.md §3.1).
const (
	// TDXGetReport0 is TDX_CMD_GET_REPORT0 = _IOWR('T', 1, struct
	// tdx_report_req): reportdata[64] in, tdreport[1024] out (Linux
	// include/uapi/linux/tdx-guest.h).
	TDXGetReport0 = 0xC4405401
	// TDXGetQuote is _IOWR('T', 2, struct {u64 buf; u64 len}): the
	// out-of-tree GET_QUOTE go-tdx-guest's device path still issues
	// (client/linuxabi IocTdxGetQuote); it was never in upstream Linux,
	// where quotes come through configfs-tsm. buf points to a GetQuote
	// buffer in the GHCI layout (struct tdx_quote_buf: version, status,
	// in_len, out_len, data), len is its size.
	TDXGetQuote = 0xC0105402
)

// Layouts of the /dev/tdx_guest ABI.
const (
	tdxReportReqSize = tdx.ReportDataSize + tdx.ReportSize // struct tdx_report_req
	tdxQuoteReqSize  = 16                                  // {u64 buf; u64 len}
	quoteHdrSize     = 0x18                                // version u64, status u64, in_len u32, out_len u32
	quoteBufVersion  = 1
	// maxQuoteBuf bounds the user's GetQuote buffer (go-tdx-guest's
	// ReqBufSize, 16 KiB of data, plus the header).
	maxQuoteBuf = quoteHdrSize + 16<<10
	// quoteStatusError is the GHCI's GET_QUOTE_ERROR (Table 3-11).
	quoteStatusError = 0x8000000000000000
)

// Errors a TDXEvidence reports, which the device turns into Linux's errno
// values (drivers/virt/coco/tdx-guest/tdx-guest.c, arch/x86/coco/tdx
// tdx_mcall_get_report0): the kernel maps the TDX module's status to them.
var (
	// ErrTDXInvalidOperand is TDCALL_INVALID_OPERAND: EINVAL.
	ErrTDXInvalidOperand = errors.New("tee: TDX module: invalid operand")
	// ErrTDXBusy is TDCALL_OPERAND_BUSY: EBUSY.
	ErrTDXBusy = errors.New("tee: TDX module: operand busy")
)

// TDXEvidence is what /dev/tdx_guest needs of the frame (frame/tdx's
// Evidence, through the kernel's adapter).
type TDXEvidence interface {
	// Report is TDG.MR.REPORT with REPORTDATA data.
	Report(data *[tdx.ReportDataSize]byte) (*[tdx.ReportSize]byte, error)
	// Quote turns a TDREPORT into a quote (GetQuote).
	Quote(tdreport *[tdx.ReportSize]byte) ([]byte, error)
}

// TDXGuest is /dev/tdx_guest.
type TDXGuest struct{ e TDXEvidence }

var _ vfs.CharDevice = (*TDXGuest)(nil)

// NewTDXGuest returns /dev/tdx_guest over e.
func NewTDXGuest(e TDXEvidence) *TDXGuest { return &TDXGuest{e: e} }

// Read implements read(2): the device has no read method; Linux's
// vfs_read answers EINVAL.
func (*TDXGuest) Read(dst []byte, off int64) (int, error) { return 0, linux.EINVAL }

// Write implements write(2): EINVAL, as Read.
func (*TDXGuest) Write(src []byte, off int64) (int, error) { return 0, linux.EINVAL }

// Ioctl implements ioctl(2) on /dev/tdx_guest (Linux tdx_guest_ioctl):
// TDX_CMD_GET_REPORT0, the out-of-tree GET_QUOTE, ENOTTY for the rest. The
// size is part of the command number, so a request of another size is an
// unknown command.
func (d *TDXGuest) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	switch cmd {
	case TDXGetReport0:
		return 0, d.getReport0(io, arg)
	case TDXGetQuote:
		return 0, d.getQuote(io, arg)
	}
	return 0, linux.ENOTTY
}

// errno maps a TDXEvidence error as tdx_mcall_get_report0 does.
func errno(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTDXInvalidOperand):
		return linux.EINVAL
	case errors.Is(err, ErrTDXBusy):
		return linux.EBUSY
	}
	return linux.EIO
}

// getReport0 implements TDX_CMD_GET_REPORT0 (Linux tdx_get_report0): copy
// reportdata in (EFAULT), TDG.MR.REPORT, copy the TDREPORT out (EFAULT).
func (d *TDXGuest) getReport0(io vfs.UserIO, arg uint64) error {
	var data [tdx.ReportDataSize]byte
	if io.CopyIn(arg, data[:]) != nil {
		return linux.EFAULT
	}
	rep, err := d.e.Report(&data)
	if err != nil {
		return errno(err)
	}
	if io.CopyOut(arg+tdx.ReportDataSize, rep[:]) != nil {
		return linux.EFAULT
	}
	return nil
}

// getQuote implements the out-of-tree GET_QUOTE as go-tdx-guest expects
// it: the user's buffer holds version 1, in_len 1024 and the TDREPORT
// (EINVAL otherwise, or for a len outside [header+1024, 16 KiB+header]);
// the quote comes back in the same buffer with status and out_len as the
// GHCI defines them. A failed GetQuote is reported in status
// (GET_QUOTE_ERROR), not as an errno, as the host would report it.
func (d *TDXGuest) getQuote(io vfs.UserIO, arg uint64) error {
	var req [tdxQuoteReqSize]byte
	if io.CopyIn(arg, req[:]) != nil {
		return linux.EFAULT
	}
	le := binary.LittleEndian
	buf, n := le.Uint64(req[0:]), le.Uint64(req[8:])
	if n < quoteHdrSize+tdx.ReportSize || n > maxQuoteBuf {
		return linux.EINVAL
	}
	in := make([]byte, quoteHdrSize+tdx.ReportSize)
	if io.CopyIn(buf, in) != nil {
		return linux.EFAULT
	}
	if le.Uint64(in[0:]) != quoteBufVersion || le.Uint32(in[0x10:]) != tdx.ReportSize {
		return linux.EINVAL
	}
	var rep [tdx.ReportSize]byte
	copy(rep[:], in[quoteHdrSize:])
	hdr := in[:quoteHdrSize]
	q, err := d.e.Quote(&rep)
	if err != nil || uint64(len(q)) > n-quoteHdrSize {
		le.PutUint64(hdr[8:], quoteStatusError)
		le.PutUint32(hdr[0x14:], 0)
		if io.CopyOut(buf, hdr) != nil {
			return linux.EFAULT
		}
		return nil
	}
	le.PutUint64(hdr[8:], 0)
	le.PutUint32(hdr[0x14:], uint32(len(q)))
	if io.CopyOut(buf, append(hdr, q...)) != nil {
		return linux.EFAULT
	}
	return nil
}

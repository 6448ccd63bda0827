package tee

import (
	"encoding/binary"
	"errors"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/snp"
	"github.com/aster-cvm/aster/services/vfs"
)

// Device numbers of the attestation devices: misc devices (Linux
// include/linux/miscdevice.h MISC_MAJOR 10). Linux registers both with
// MISC_DYNAMIC_MINOR; Aster fixes the minors, from the range Linux leaves
// to dynamic allocation, so /dev nodes are stable.
const (
	MiscMajor     = 10
	SEVGuestMinor = 250 // /dev/sev-guest
	TDXGuestMinor = 251 // /dev/tdx_guest
)

// The /dev/sev-guest ioctls (Linux include/uapi/linux/sev-guest.h:
// _IOWR('S', n, struct snp_guest_request_ioctl), 32 bytes;
// TEE-REFERENCE.md §3.2).
const (
	SNPGetReport     = 0xC0205300
	SNPGetDerivedKey = 0xC0205301
	SNPGetExtReport  = 0xC0205302
)

// Layouts of the /dev/sev-guest ABI (Linux uapi sev-guest.h).
const (
	guestRequestSize   = 32   // struct snp_guest_request_ioctl
	reqMsgVersion      = 0    // u8 msg_version
	reqReqData         = 8    // u64 req_data
	reqRespData        = 16   // u64 resp_data
	reqExitInfo2       = 24   // u64 exitinfo2 (fw_error u32, vmm_error u32)
	reportReqSize      = 96   // struct snp_report_req
	reportRespSize     = 4000 // struct snp_report_resp
	derivedKeyReqSize  = 32   // struct snp_derived_key_req
	derivedKeyRespSize = 64   // struct snp_derived_key_resp
	extReportReqSize   = 112  // struct snp_ext_report_req
	extCertsAddress    = 96   // u64 certs_address
	extCertsLen        = 104  // u32 certs_len
	pageSize           = 4096
	// noFWCall is exitinfo2's preset: the request never reached the
	// firmware (Linux SEV_RET_NO_FW_CALL); it is copied back if nothing
	// replaced it.
	noFWCall = 0xFF
)

// ebadmsg is Linux's EBADMSG, what sev-guest.c returns for a response that
// does not authenticate.
const ebadmsg = linux.Errno(74)

// SNPMessenger is what /dev/sev-guest needs of the guest-message layer
// (*snp.Messenger).
type SNPMessenger interface {
	Request(typ snp.MsgType, version uint8, payload []byte) ([]byte, error)
	ExtRequest(typ snp.MsgType, version uint8, payload []byte, certPages int) ([]byte, []byte, error)
	Disabled() bool
}

// SEVGuest is /dev/sev-guest.
type SEVGuest struct{ m SNPMessenger }

var _ vfs.CharDevice = (*SEVGuest)(nil)

// NewSEVGuest returns /dev/sev-guest over m.
func NewSEVGuest(m SNPMessenger) *SEVGuest { return &SEVGuest{m: m} }

// Read implements read(2): the device has no read method; Linux's
// vfs_read answers EINVAL.
func (*SEVGuest) Read(dst []byte, off int64) (int, error) { return 0, linux.EINVAL }

// Write implements write(2): EINVAL, as Read.
func (*SEVGuest) Write(src []byte, off int64) (int, error) { return 0, linux.EINVAL }

// Ioctl implements ioctl(2) on /dev/sev-guest as Linux's snp_guest_ioctl
// does (drivers/virt/coco/sev-guest/sev-guest.c): copy the request in
// (EFAULT), preset exitinfo2 to SEV_RET_NO_FW_CALL, refuse msg_version 0
// (EINVAL), answer ENOTTY once the VMPCK is disabled or for an unknown
// command, and copy the request back iff exitinfo2 is non-zero. Aster also
// refuses msg_version above 1 with EINVAL: the only version its secure
// processor (and AMD's, for these messages) speaks is 1.
func (d *SEVGuest) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	var in [guestRequestSize]byte
	if err := io.CopyIn(arg, in[:]); err != nil {
		return 0, linux.EFAULT
	}
	le := binary.LittleEndian
	le.PutUint64(in[reqExitInfo2:], noFWCall)
	version := in[reqMsgVersion]
	if version != 1 {
		return 0, linux.EINVAL
	}
	if d.m.Disabled() {
		return 0, linux.ENOTTY
	}
	r := &sevRequest{io: io, version: version, reqPtr: le.Uint64(in[reqReqData:]), respPtr: le.Uint64(in[reqRespData:]), exitInfo2: noFWCall}
	var err error
	switch cmd {
	case SNPGetReport:
		err = d.getReport(r)
	case SNPGetDerivedKey:
		err = d.getDerivedKey(r)
	case SNPGetExtReport:
		err = d.getExtReport(r)
	default:
		err = linux.ENOTTY
	}
	if r.exitInfo2 != 0 {
		le.PutUint64(in[reqExitInfo2:], r.exitInfo2)
		if io.CopyOut(arg, in[:]) != nil {
			return 0, linux.EFAULT
		}
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// sevRequest is one ioctl in flight.
type sevRequest struct {
	io              vfs.UserIO
	version         uint8
	reqPtr, respPtr uint64
	exitInfo2       uint64
}

// result records exitinfo2 for err from the message layer and returns
// the errno Linux's snp_send_guest_request gives: EIO for a hypervisor or
// firmware error (exitinfo2 as reported), ETIMEDOUT when the hypervisor
// stayed busy, EBADMSG for a response that does not authenticate or does
// not answer the request, EIO otherwise.
func (r *sevRequest) result(err error) error {
	var gre *snp.GuestRequestError
	var small *snp.CertsTooSmallError
	switch {
	case err == nil:
		r.exitInfo2 = 0
		return nil
	case errors.As(err, &small):
		r.exitInfo2 = snp.VMMErrInvalidLen << 32
		return linux.EIO
	case errors.As(err, &gre):
		r.exitInfo2 = gre.ExitInfo2
		return linux.EIO
	case errors.Is(err, snp.ErrBusy):
		r.exitInfo2 = snp.VMMErrBusy << 32
		return linux.ETIMEDOUT
	case errors.Is(err, snp.ErrMsg):
		r.exitInfo2 = 0
		return ebadmsg
	}
	return linux.EIO
}

// getReport implements SNP_GET_REPORT (Linux get_report): struct
// snp_report_req in, the decrypted MSG_REPORT_RSP payload out in struct
// snp_report_resp (4000 bytes, zero-padded).
func (d *SEVGuest) getReport(r *sevRequest) error {
	if r.reqPtr == 0 || r.respPtr == 0 {
		return linux.EINVAL
	}
	var req [reportReqSize]byte
	if r.io.CopyIn(r.reqPtr, req[:]) != nil {
		return linux.EFAULT
	}
	rsp, err := d.m.Request(snp.MsgReportReq, r.version, req[:])
	if err := r.result(err); err != nil {
		return err
	}
	return copyResp(r, rsp, reportRespSize)
}

// copyResp copies the decrypted payload to resp_data as a size-byte
// structure.
func copyResp(r *sevRequest, payload []byte, size int) error {
	out := make([]byte, size)
	copy(out, payload)
	if r.io.CopyOut(r.respPtr, out) != nil {
		return linux.EFAULT
	}
	return nil
}

// getDerivedKey implements SNP_GET_DERIVED_KEY (Linux get_derived_key):
// struct snp_derived_key_req in, the decrypted MSG_KEY_RSP payload (status,
// reserved, 32-byte key) out in struct snp_derived_key_resp.
func (d *SEVGuest) getDerivedKey(r *sevRequest) error {
	if r.reqPtr == 0 || r.respPtr == 0 {
		return linux.EINVAL
	}
	var req [derivedKeyReqSize]byte
	if r.io.CopyIn(r.reqPtr, req[:]) != nil {
		return linux.EFAULT
	}
	rsp, err := d.m.Request(snp.MsgKeyReq, r.version, req[:])
	if err := r.result(err); err != nil {
		return err
	}
	return copyResp(r, rsp, derivedKeyRespSize)
}

// getExtReport implements SNP_GET_EXT_REPORT (Linux get_ext_report):
// struct snp_ext_report_req in. certs_len must be whole pages and at most
// SEV_FW_BLOB_MAX_SIZE (EINVAL); a zero length or address offers the
// hypervisor no pages, which is how go-sev-guest asks for the size. If the
// buffer is too small the answer is EIO with vmm_error INVALID_LEN and the
// size needed written back to certs_len; otherwise the certificates go to
// certs_address and the report response to resp_data.
func (d *SEVGuest) getExtReport(r *sevRequest) error {
	if r.reqPtr == 0 || r.respPtr == 0 {
		return linux.EINVAL
	}
	var req [extReportReqSize]byte
	if r.io.CopyIn(r.reqPtr, req[:]) != nil {
		return linux.EFAULT
	}
	le := binary.LittleEndian
	addr, n := le.Uint64(req[extCertsAddress:]), le.Uint32(req[extCertsLen:])
	pages := 0
	if addr != 0 && n != 0 {
		if n%pageSize != 0 || n > snp.MaxCertsSize {
			return linux.EINVAL
		}
		pages = int(n / pageSize)
	}
	rsp, certs, err := d.m.ExtRequest(snp.MsgReportReq, r.version, req[:reportReqSize], pages)
	var small *snp.CertsTooSmallError
	if errors.As(err, &small) {
		le.PutUint32(req[extCertsLen:], uint32(small.Pages*pageSize))
		if r.io.CopyOut(r.reqPtr, req[:]) != nil {
			r.result(err)
			return linux.EFAULT
		}
	}
	if err := r.result(err); err != nil {
		return err
	}
	if pages > 0 {
		out := make([]byte, pages*pageSize)
		copy(out, certs)
		if r.io.CopyOut(addr, out) != nil {
			return linux.EFAULT
		}
	}
	return copyResp(r, rsp, reportRespSize)
}

package sev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Guest request results in SW_EXITINFO2: bits 63:32 the hypervisor's
// error, bits 31:0 the firmware's ([GHCB] §4.1.8; Linux uapi
// SNP_GUEST_VMM_ERR_INVALID_LEN/BUSY).
const (
	VMMErrInvalidLen = 1
	VMMErrBusy       = 2
	// MaxCertsSize is the largest certificate buffer (Linux
	// SEV_FW_BLOB_MAX_SIZE).
	MaxCertsSize = 0x4000
	// DefaultBusyRetries bounds retries of a BUSY guest request.
	DefaultBusyRetries = 30
)

// Errors of the guest-message channel.
var (
	// ErrVMPCKDisabled: the key was wiped after an error, so that no
	// sequence number (and so no IV) can ever be reused (Linux
	// snp_disable_vmpck). Attestation is off until the next boot.
	ErrVMPCKDisabled = errors.New("sev: VMPCK disabled after an error")
	// ErrBusy: the hypervisor stayed busy for every retry.
	ErrBusy = errors.New("sev: guest request: hypervisor busy")
)

// GuestRequestError is a failed guest request, with SW_EXITINFO2 as the
// /dev/sev-guest ioctl reports it (exitinfo2).
type GuestRequestError struct{ ExitInfo2 uint64 }

func (e *GuestRequestError) Error() string {
	return fmt.Sprintf("sev: guest request failed: vmm error %#x, firmware error %#x", e.ExitInfo2>>32, uint32(e.ExitInfo2))
}

// CertsTooSmallError: the certificate buffer of an extended request is
// too small; Pages is what the hypervisor needs (RBX).
type CertsTooSmallError struct{ Pages uint64 }

func (e *CertsTooSmallError) Error() string {
	return fmt.Sprintf("sev: certificate buffer too small: need %d pages", e.Pages)
}

// MessengerConfig is what NewMessenger needs.
type MessengerConfig struct {
	// Secrets is the secrets page (private memory): the VMPCK is read
	// from it, the OS area's sequence number kept in it, and the VMPCK
	// wiped in it on error.
	Secrets []byte
	// VMPCK is the key index: the VMPL the guest runs at (0).
	VMPCK int
	// Req and Resp are one private page each at ReqPA and RespPA;
	// NewMessenger makes them shared (the frame then maps them without
	// the C-bit).
	Req, Resp     []byte
	ReqPA, RespPA uint64
	// Certs (optional) is the extended-report certificate buffer at
	// CertsPA, whole pages, at most MaxCertsSize; made shared too.
	Certs   []byte
	CertsPA uint64
	// BusyRetries bounds retries on BUSY (0: DefaultBusyRetries); Wait,
	// if set, is called between them (Linux waits 2 s).
	BusyRetries int
	Wait        func()
}

// Messenger is the guest-message channel to the secure processor. Its
// methods are safe for concurrent use; requests are serialised.
type Messenger struct {
	p     *Platform
	retry int
	wait  func()

	mu      sync.Mutex
	secrets []byte // protected by mu
	key     []byte // protected by mu; nil once disabled
	idx     uint8
	req     []byte
	resp    []byte
	reqPA   uint64
	respPA  uint64
	certs   []byte
	certsPA uint64
}

// NewMessenger sets up the channel with key cfg.VMPCK.
func (p *Platform) NewMessenger(cfg MessengerConfig) (*Messenger, error) {
	s, err := ParseSecrets(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	if cfg.VMPCK < 0 || cfg.VMPCK > 3 {
		return nil, fmt.Errorf("sev: VMPCK index %d", cfg.VMPCK)
	}
	if s.VMPCK[cfg.VMPCK] == [VMPCKSize]byte{} {
		return nil, ErrVMPCKDisabled
	}
	if len(cfg.Req) != MsgPageSize || len(cfg.Resp) != MsgPageSize {
		return nil, errors.New("sev: guest message pages must be 4 KiB")
	}
	if len(cfg.Certs)%MsgPageSize != 0 || len(cfg.Certs) > MaxCertsSize {
		return nil, fmt.Errorf("sev: certificate buffer of %d bytes", len(cfg.Certs))
	}
	for _, r := range []struct {
		pa uint64
		n  int
	}{{cfg.ReqPA, 1}, {cfg.RespPA, 1}, {cfg.CertsPA, len(cfg.Certs) / MsgPageSize}} {
		if r.n == 0 {
			continue
		}
		if err := p.ToShared(r.pa, r.n); err != nil {
			return nil, err
		}
	}
	m := &Messenger{
		p: p, retry: cfg.BusyRetries, wait: cfg.Wait,
		secrets: cfg.Secrets, idx: uint8(cfg.VMPCK),
		key: append([]byte(nil), s.VMPCK[cfg.VMPCK][:]...),
		req: cfg.Req, resp: cfg.Resp, reqPA: cfg.ReqPA, respPA: cfg.RespPA,
		certs: cfg.Certs, certsPA: cfg.CertsPA,
	}
	if m.retry == 0 {
		m.retry = DefaultBusyRetries
	}
	return m, nil
}

// disable wipes the key in memory and in the secrets page.
//
// Preconditions: m.mu held.
func (m *Messenger) disable() {
	clear(m.key)
	m.key = nil
	clear(m.secrets[secretsVMPCK0+int(m.idx)*VMPCKSize:][:VMPCKSize])
}

// seqno returns the last sequence number used with the key (OS area).
//
// Preconditions: m.mu held.
func (m *Messenger) seqno() uint64 {
	return uint64(binary.LittleEndian.Uint32(m.secrets[secretsOSSeqno+4*int(m.idx):]))
}

// setSeqno records n as the last sequence number used.
//
// Preconditions: m.mu held; n < 2^32.
func (m *Messenger) setSeqno(n uint64) {
	binary.LittleEndian.PutUint32(m.secrets[secretsOSSeqno+4*int(m.idx):], uint32(n))
}

// Request sends a guest message of type typ and version and returns the
// decrypted response payload (Linux snp_send_guest_request).
func (m *Messenger) Request(typ MsgType, version uint8, payload []byte) ([]byte, error) {
	rsp, _, err := m.exchange(typ, version, payload, false)
	return rsp, err
}

// ExtRequest sends an extended guest request (NAE 0x80000012) and returns
// the response payload and a copy of the certificate buffer. A buffer too
// small gives *CertsTooSmallError after the request was re-issued as a
// plain one, so its sequence number is consumed and never reused.
func (m *Messenger) ExtRequest(typ MsgType, version uint8, payload []byte) ([]byte, []byte, error) {
	return m.exchange(typ, version, payload, true)
}

// exchange runs one request/response exchange. The sequence number is the
// OS area's plus one, the response must carry it plus one, the same key
// index and version and the type plus one; the OS area then advances by
// two. Any failure after the request left the guest wipes the key, except
// BUSY (retried with the identical ciphertext) and a too-small certificate
// buffer (re-issued as a plain request); Linux sev-guest.c does the same.
func (m *Messenger) exchange(typ MsgType, version uint8, payload []byte, ext bool) ([]byte, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		return nil, nil, ErrVMPCKDisabled
	}
	if ext && len(m.certs) == 0 {
		return nil, nil, errors.New("sev: no certificate buffer")
	}
	seq := m.seqno() + 1
	if seq >= 1<<32-1 { // the OS area holds 32 bits; never wrap
		m.disable()
		return nil, nil, ErrVMPCKDisabled
	}
	// Encrypt in private memory, then copy to the shared page.
	msg := make([]byte, MsgPageSize)
	if err := SealMessage(msg, m.key, seq, typ, version, m.idx, payload); err != nil {
		return nil, nil, err
	}
	var tooSmall uint64
	for try := 0; ; try++ {
		copy(m.req, msg)
		info2, rbx, err := m.p.guestRequest(ext, m.reqPA, m.respPA, m.certsPA, uint64(len(m.certs)/MsgPageSize))
		if err != nil {
			m.disable()
			return nil, nil, err
		}
		switch {
		case info2>>32 == VMMErrBusy:
			if try >= m.retry {
				m.disable()
				return nil, nil, ErrBusy
			}
			if m.wait != nil {
				m.wait()
			}
			continue
		case info2>>32 == VMMErrInvalidLen && ext:
			if rbx == 0 || rbx > 1<<20 {
				m.disable()
				return nil, nil, fmt.Errorf("%w: INVALID_LEN with %d pages", ErrProtocol, rbx)
			}
			tooSmall, ext = rbx, false
			continue
		case info2 != 0:
			m.disable()
			return nil, nil, &GuestRequestError{ExitInfo2: info2}
		}
		break
	}
	// Copy the response out of shared memory before checking it.
	rsp := make([]byte, MsgPageSize)
	copy(rsp, m.resp)
	h, pt, err := OpenMessage(rsp, m.key)
	if err == nil && (h.Seqno != seq+1 || h.Type != typ+1 || h.Version != version || h.VMPCK != m.idx) {
		err = fmt.Errorf("%w: response seqno %d type %d version %d key %d to request seqno %d type %d",
			ErrMsg, h.Seqno, h.Type, h.Version, h.VMPCK, seq, typ)
	}
	if err != nil {
		m.disable()
		return nil, nil, err
	}
	m.setSeqno(seq + 1)
	if tooSmall != 0 {
		return nil, nil, &CertsTooSmallError{Pages: tooSmall}
	}
	var certs []byte
	if ext {
		certs = append([]byte(nil), m.certs...)
	}
	return pt, certs, nil
}

// guestRequest issues NAE 0x80000011 (or 0x80000012 with the certificate
// buffer in RAX and its pages in RBX) and returns SW_EXITINFO2 and, for
// INVALID_LEN, RBX.
func (p *Platform) guestRequest(ext bool, reqPA, respPA, certsPA, pages uint64) (info2, rbx uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	p.conn.begin()
	code := uint64(ExitGuestRequest)
	if ext {
		code = ExitExtGuestReq
		g.Set(FieldRAX, certsPA)
		g.Set(FieldRBX, pages)
	}
	if err := p.conn.exit(code, reqPA, respPA); err != nil {
		return 0, 0, err
	}
	info2 = g.Raw(FieldSWExitInfo2)
	if ext && info2>>32 == VMMErrInvalidLen {
		if rbx, err = g.Get(FieldRBX); err != nil {
			return 0, 0, err
		}
	}
	return info2, rbx, nil
}

// Report asks for an attestation report carrying userData at vmpl and
// returns its ReportSize bytes.
func (m *Messenger) Report(userData [64]byte, vmpl uint32) ([]byte, error) {
	rsp, err := m.Request(MsgReportReq, 1, EncodeReportReq(userData, vmpl))
	if err != nil {
		return nil, err
	}
	return DecodeReportRsp(rsp)
}

// ExtReport is Report with the host's certificate table (VCEK, ASK, ARK).
func (m *Messenger) ExtReport(userData [64]byte, vmpl uint32) (report, certs []byte, err error) {
	rsp, certs, err := m.ExtRequest(MsgReportReq, 1, EncodeReportReq(userData, vmpl))
	if err != nil {
		return nil, nil, err
	}
	report, err = DecodeReportRsp(rsp)
	return report, certs, err
}

// DerivedKey asks for a key derived as req selects.
func (m *Messenger) DerivedKey(req KeyReq) ([32]byte, error) {
	var key [32]byte
	rsp, err := m.Request(MsgKeyReq, 1, req.Encode())
	if err != nil {
		return key, err
	}
	if len(rsp) != KeyRspSize {
		return key, fmt.Errorf("%w: key response of %d bytes", ErrMsg, len(rsp))
	}
	if st := binary.LittleEndian.Uint32(rsp); st != StatusOK {
		return key, &FirmwareError{Status: uint64(st)}
	}
	copy(key[:], rsp[0x20:])
	return key, nil
}

package snp

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

// Channel is the frame's guest-request primitive (frame/sev GuestChannel):
// req, a sealed message, goes to the secure processor through the
// hypervisor, as an extended request (NAE 0x80000012) offering len(certs)
// bytes of certificate buffer if ext. It returns SW_EXITINFO2, and for
// INVALID_LEN the pages the hypervisor needs; when SW_EXITINFO2 is 0,
// resp (one page) holds the response message and certs the certificate
// buffer, both untrusted.
type Channel interface {
	GuestRequest(ext bool, req, resp, certs []byte) (exitInfo2, needPages uint64, err error)
}

// Errors of the guest-message channel.
var (
	// ErrVMPCKDisabled: the key was wiped after an error, so that no
	// sequence number (and so no IV) can ever be reused (Linux
	// snp_disable_vmpck). Attestation is off until the next boot.
	ErrVMPCKDisabled = errors.New("snp: VMPCK disabled after an error")
	// ErrBusy: the hypervisor stayed busy for every retry.
	ErrBusy = errors.New("snp: guest request: hypervisor busy")
	// ErrProtocol: the hypervisor answered outside the protocol.
	ErrProtocol = errors.New("snp: hypervisor response outside the guest-request protocol")
)

// GuestRequestError is a failed guest request, with SW_EXITINFO2 as the
// /dev/sev-guest ioctl reports it (exitinfo2).
type GuestRequestError struct{ ExitInfo2 uint64 }

func (e *GuestRequestError) Error() string {
	return fmt.Sprintf("snp: guest request failed: vmm error %#x, firmware error %#x", e.ExitInfo2>>32, uint32(e.ExitInfo2))
}

// CertsTooSmallError: the certificate buffer of an extended request is
// too small; Pages is what the hypervisor needs (RBX).
type CertsTooSmallError struct{ Pages uint64 }

func (e *CertsTooSmallError) Error() string {
	return fmt.Sprintf("snp: certificate buffer too small: need %d pages", e.Pages)
}

// MessengerConfig is what NewMessenger needs.
type MessengerConfig struct {
	// Channel carries the messages (the frame's GuestChannel).
	Channel Channel
	// Secrets is the secrets page (private memory): the VMPCK is read
	// from it, the OS area's sequence number kept in it, and the VMPCK
	// wiped in it on error (Linux snp_disable_vmpck).
	Secrets []byte
	// VMPCK is the key index: the VMPL the guest runs at (0).
	VMPCK int
	// BusyRetries bounds retries on BUSY (0: DefaultBusyRetries); Wait,
	// if set, is called between them (Linux waits 2 s).
	BusyRetries int
	Wait        func()
}

// Messenger is the guest-message layer over the frame's channel to the
// secure processor: AES-256-GCM under the VMPCK, sequence numbers, BUSY
// retries and the INVALID_LEN re-issue (Linux
// drivers/virt/coco/sev-guest/sev-guest.c). Its methods are safe for
// concurrent use; requests are serialised.
type Messenger struct {
	ch    Channel
	retry int
	wait  func()

	mu      sync.Mutex
	secrets []byte // protected by mu
	key     []byte // protected by mu; nil once disabled
	idx     uint8
}

// NewMessenger sets up the channel with key cfg.VMPCK.
func NewMessenger(cfg MessengerConfig) (*Messenger, error) {
	if cfg.Channel == nil {
		return nil, errors.New("snp: no guest-request channel")
	}
	s, err := ParseSecrets(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	if cfg.VMPCK < 0 || cfg.VMPCK > 3 {
		return nil, fmt.Errorf("snp: VMPCK index %d", cfg.VMPCK)
	}
	if s.VMPCK[cfg.VMPCK] == [VMPCKSize]byte{} {
		return nil, ErrVMPCKDisabled
	}
	m := &Messenger{
		ch: cfg.Channel, retry: cfg.BusyRetries, wait: cfg.Wait,
		secrets: cfg.Secrets, idx: uint8(cfg.VMPCK),
		key: append([]byte(nil), s.VMPCK[cfg.VMPCK][:]...),
	}
	if m.retry == 0 {
		m.retry = DefaultBusyRetries
	}
	return m, nil
}

// Disabled reports whether the key was wiped: no request can succeed
// until the next boot (/dev/sev-guest then answers ENOTTY, as Linux does).
func (m *Messenger) Disabled() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.key == nil
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
	rsp, _, err := m.exchange(typ, version, payload, true, 0)
	return rsp, err
}

// ExtRequest sends an extended guest request (NAE 0x80000012) offering
// certPages pages of certificate buffer (at most MaxCertsSize bytes; 0
// asks the hypervisor how much it needs) and returns the response payload
// and the certificate buffer. A buffer too small gives *CertsTooSmallError
// after the request was re-issued as a plain one, so its sequence number
// is consumed and never reused.
func (m *Messenger) ExtRequest(typ MsgType, version uint8, payload []byte, certPages int) ([]byte, []byte, error) {
	if certPages < 0 || certPages*MsgPageSize > MaxCertsSize {
		return nil, nil, fmt.Errorf("snp: certificate buffer of %d pages", certPages)
	}
	return m.exchange(typ, version, payload, false, certPages)
}

// exchange runs one request/response exchange. The sequence number is the
// OS area's plus one, the response must carry it plus one, the same key
// index and version and the type plus one; the OS area then advances by
// two. Any failure after the request left the guest wipes the key, except
// BUSY (retried with the identical ciphertext) and a too-small certificate
// buffer (re-issued as a plain request); Linux sev-guest.c does the same.
func (m *Messenger) exchange(typ MsgType, version uint8, payload []byte, plain bool, certPages int) ([]byte, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		return nil, nil, ErrVMPCKDisabled
	}
	seq := m.seqno() + 1
	if seq >= 1<<32-1 { // the OS area holds 32 bits; never wrap
		m.disable()
		return nil, nil, ErrVMPCKDisabled
	}
	// Encrypt in private memory; the channel copies it to the shared page.
	msg := make([]byte, MsgPageSize)
	if err := SealMessage(msg, m.key, seq, typ, version, m.idx, payload); err != nil {
		return nil, nil, err
	}
	ext := !plain
	certs := make([]byte, certPages*MsgPageSize)
	rsp := make([]byte, MsgPageSize)
	var tooSmall uint64
	for try := 0; ; try++ {
		c := certs
		if !ext {
			c = nil
		}
		info2, need, err := m.ch.GuestRequest(ext, msg, rsp, c)
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
			if need == 0 || need > 1<<20 {
				m.disable()
				return nil, nil, fmt.Errorf("%w: INVALID_LEN with %d pages", ErrProtocol, need)
			}
			tooSmall, ext = need, false
			continue
		case info2 != 0:
			m.disable()
			return nil, nil, &GuestRequestError{ExitInfo2: info2}
		}
		break
	}
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
	if !ext {
		certs = nil
	}
	return pt, certs, nil
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

// ExtReport is Report with the host's certificate table (VCEK, ASK, ARK)
// in a buffer of certPages pages.
func (m *Messenger) ExtReport(userData [64]byte, vmpl uint32, certPages int) (report, certs []byte, err error) {
	rsp, certs, err := m.ExtRequest(MsgReportReq, 1, EncodeReportReq(userData, vmpl), certPages)
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

// VMPCK returns the index of the key the messenger uses: the VMPL whose
// reports it may ask for at the least (configfs-tsm's privlevel_floor).
func (m *Messenger) VMPCK() int { return int(m.idx) }

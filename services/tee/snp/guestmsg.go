package snp

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// SNP guest message layout ([SNP-ABI] §8.26 "Guest message header"; Linux
// struct snp_guest_msg_hdr in asm/sev.h; TEE-REFERENCE §2.10).
const (
	MsgPageSize      = 4096
	MsgHeaderSize    = 0x60
	MsgMaxPayload    = MsgPageSize - MsgHeaderSize
	msgAuthTag       = 0x00 // 32 bytes, 16 used
	msgSeqno         = 0x20 // u64
	msgAlgo          = 0x30
	msgHdrVersion    = 0x31
	msgHdrSize       = 0x32 // u16
	msgType          = 0x34
	msgVersion       = 0x35
	msgSize          = 0x36 // u16
	msgVMPCK         = 0x3C
	msgAADStart      = 0x30 // AAD = header bytes 0x30..0x5F (Linux AAD_LEN 48)
	msgAADEnd        = 0x60
	AuthTagLen       = 16 // Linux AUTHTAG_LEN
	AlgoAES256GCM    = 1  // Linux SNP_AEAD_AES_256_GCM
	MsgHeaderVersion = 1  // Linux MSG_HDR_VER
)

// MsgType is a guest message type (Linux enum msg_type; [SNP-ABI] Table
// "Message Type Encodings"). Each response is its request plus one.
type MsgType uint8

// The message types.
const (
	MsgCPUIDReq  MsgType = 1
	MsgCPUIDRsp  MsgType = 2
	MsgKeyReq    MsgType = 3
	MsgKeyRsp    MsgType = 4
	MsgReportReq MsgType = 5
	MsgReportRsp MsgType = 6
)

// MsgHeader is the plaintext header of a guest message.
type MsgHeader struct {
	AuthTag    [AuthTagLen]byte
	Seqno      uint64
	Algo       uint8
	HdrVersion uint8
	HdrSize    uint16
	Type       MsgType
	Version    uint8
	Size       uint16
	VMPCK      uint8
}

// ErrMsg is a malformed or unauthentic guest message.
var ErrMsg = errors.New("snp: bad guest message")

// ParseMsgHeader parses the header at the start of b and checks the fields
// that must have fixed values.
func ParseMsgHeader(b []byte) (MsgHeader, error) {
	if len(b) < MsgHeaderSize {
		return MsgHeader{}, fmt.Errorf("%w: %d bytes", ErrMsg, len(b))
	}
	le := binary.LittleEndian
	h := MsgHeader{
		Seqno:      le.Uint64(b[msgSeqno:]),
		Algo:       b[msgAlgo],
		HdrVersion: b[msgHdrVersion],
		HdrSize:    le.Uint16(b[msgHdrSize:]),
		Type:       MsgType(b[msgType]),
		Version:    b[msgVersion],
		Size:       le.Uint16(b[msgSize:]),
		VMPCK:      b[msgVMPCK],
	}
	copy(h.AuthTag[:], b[msgAuthTag:])
	switch {
	case h.Algo != AlgoAES256GCM:
		return h, fmt.Errorf("%w: algorithm %d", ErrMsg, h.Algo)
	case h.HdrVersion != MsgHeaderVersion || h.HdrSize != MsgHeaderSize:
		return h, fmt.Errorf("%w: header version %d size %#x", ErrMsg, h.HdrVersion, h.HdrSize)
	case h.VMPCK > 3:
		return h, fmt.Errorf("%w: VMPCK %d", ErrMsg, h.VMPCK)
	case int(h.Size) > MsgMaxPayload || int(h.Size) > len(b)-MsgHeaderSize:
		return h, fmt.Errorf("%w: payload size %d", ErrMsg, h.Size)
	}
	return h, nil
}

// msgIV is the 12-byte GCM nonce: the sequence number little-endian in the
// first eight bytes, the rest zero (Linux enc_payload/dec_payload).
func msgIV(seqno uint64) []byte {
	iv := make([]byte, 12)
	binary.LittleEndian.PutUint64(iv, seqno)
	return iv
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != VMPCKSize {
		return nil, fmt.Errorf("%w: key of %d bytes", ErrMsg, len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithTagSize(blk, AuthTagLen)
}

// SealMessage writes a guest message into page (at least MsgHeaderSize +
// len(payload) bytes): the header with seqno, type, version and VMPCK
// index, the payload encrypted with AES-256-GCM under key, IV from seqno,
// AAD = header bytes 0x30-0x5F, and the tag. The caller owns the rule that
// a sequence number is never used twice with one key.
func SealMessage(page, key []byte, seqno uint64, typ MsgType, version, vmpck uint8, payload []byte) error {
	if len(payload) > MsgMaxPayload || len(page) < MsgHeaderSize+len(payload) {
		return fmt.Errorf("%w: payload of %d bytes", ErrMsg, len(payload))
	}
	if seqno == 0 {
		return fmt.Errorf("%w: sequence number 0", ErrMsg)
	}
	aead, err := newGCM(key)
	if err != nil {
		return err
	}
	hdr := page[:MsgHeaderSize]
	clear(hdr)
	le := binary.LittleEndian
	le.PutUint64(hdr[msgSeqno:], seqno)
	hdr[msgAlgo] = AlgoAES256GCM
	hdr[msgHdrVersion] = MsgHeaderVersion
	le.PutUint16(hdr[msgHdrSize:], MsgHeaderSize)
	hdr[msgType] = byte(typ)
	hdr[msgVersion] = version
	le.PutUint16(hdr[msgSize:], uint16(len(payload)))
	hdr[msgVMPCK] = vmpck
	out := aead.Seal(page[MsgHeaderSize:MsgHeaderSize], msgIV(seqno), payload, hdr[msgAADStart:msgAADEnd])
	copy(hdr[msgAuthTag:], out[len(payload):])
	clear(page[MsgHeaderSize+len(payload) : MsgHeaderSize+len(out)])
	return nil
}

// OpenMessage authenticates and decrypts the guest message in page with
// key. page must be a private copy: the caller copies a message out of
// shared memory before opening it, so what is checked is what is used.
func OpenMessage(page, key []byte) (MsgHeader, []byte, error) {
	h, err := ParseMsgHeader(page)
	if err != nil {
		return h, nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return h, nil, err
	}
	ct := make([]byte, int(h.Size)+AuthTagLen)
	copy(ct, page[MsgHeaderSize:MsgHeaderSize+int(h.Size)])
	copy(ct[h.Size:], h.AuthTag[:])
	pt, err := aead.Open(ct[:0], msgIV(h.Seqno), ct, page[msgAADStart:msgAADEnd])
	if err != nil {
		return h, nil, fmt.Errorf("%w: authentication failed", ErrMsg)
	}
	return h, pt, nil
}

// Report request and response payloads ([SNP-ABI] Table "MSG_REPORT_REQ",
// "MSG_REPORT_RSP"; Linux uapi struct snp_report_req, snp_report_resp).
const (
	ReportReqSize     = 0x60
	reportReqVMPL     = 0x40
	reportReqKeySel   = 0x44
	ReportRspHdrSize  = 0x20 // status u32, report_size u32, reserved
	ReportRspSize     = ReportRspHdrSize + ReportSize
	StatusOK          = 0
	StatusInvalidParm = 0x16
	StatusInvalidKey  = 0x27
)

// EncodeReportReq encodes MSG_REPORT_REQ.
func EncodeReportReq(userData [64]byte, vmpl uint32) []byte {
	b := make([]byte, ReportReqSize)
	copy(b, userData[:])
	binary.LittleEndian.PutUint32(b[reportReqVMPL:], vmpl)
	return b
}

// DecodeReportReq decodes MSG_REPORT_REQ.
func DecodeReportReq(b []byte) (userData [64]byte, vmpl, keySel uint32, err error) {
	if len(b) != ReportReqSize {
		return userData, 0, 0, fmt.Errorf("%w: report request of %d bytes", ErrMsg, len(b))
	}
	copy(userData[:], b)
	return userData, binary.LittleEndian.Uint32(b[reportReqVMPL:]), binary.LittleEndian.Uint32(b[reportReqKeySel:]), nil
}

// DecodeReportRsp decodes MSG_REPORT_RSP and returns the report bytes.
func DecodeReportRsp(b []byte) ([]byte, error) {
	if len(b) < ReportRspHdrSize {
		return nil, fmt.Errorf("%w: report response of %d bytes", ErrMsg, len(b))
	}
	if st := binary.LittleEndian.Uint32(b); st != StatusOK {
		return nil, &FirmwareError{Status: uint64(st)}
	}
	if n := binary.LittleEndian.Uint32(b[4:]); n != ReportSize || len(b) < ReportRspHdrSize+ReportSize {
		return nil, fmt.Errorf("%w: report size %d in %d bytes", ErrMsg, n, len(b))
	}
	return b[ReportRspHdrSize : ReportRspHdrSize+ReportSize], nil
}

// Derived key request and response (Linux uapi struct snp_derived_key_req;
// [SNP-ABI] "MSG_KEY_REQ", "MSG_KEY_RSP").
const (
	KeyReqSize = 32
	KeyRspSize = 0x40 // status u32, reserved to 0x20, 32-byte key
)

// KeyReq is MSG_KEY_REQ.
type KeyReq struct {
	RootKeySelect    uint32
	GuestFieldSelect uint64
	VMPL             uint32
	GuestSVN         uint32
	TCBVersion       uint64
}

// Encode encodes r.
func (r KeyReq) Encode() []byte {
	b := make([]byte, KeyReqSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], r.RootKeySelect)
	le.PutUint64(b[8:], r.GuestFieldSelect)
	le.PutUint32(b[16:], r.VMPL)
	le.PutUint32(b[20:], r.GuestSVN)
	le.PutUint64(b[24:], r.TCBVersion)
	return b
}

// DecodeKeyReq decodes MSG_KEY_REQ.
func DecodeKeyReq(b []byte) (KeyReq, error) {
	if len(b) != KeyReqSize {
		return KeyReq{}, fmt.Errorf("%w: key request of %d bytes", ErrMsg, len(b))
	}
	le := binary.LittleEndian
	return KeyReq{le.Uint32(b[0:]), le.Uint64(b[8:]), le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint64(b[24:])}, nil
}

// FirmwareError is a non-zero status from the secure processor.
type FirmwareError struct{ Status uint64 }

func (e *FirmwareError) Error() string { return fmt.Sprintf("snp: firmware status %#x", e.Status) }

package tdx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/frame/tee"
)

// The GetQuote shared buffer, struct tdx_quote_buf ([GHCI] Table 3-10
// "TDG.VP.VMCALL<GetQuote> format of shared GPA"; Linux
// drivers/virt/coco/tdx-guest/tdx-guest.c; TEE-REFERENCE.md §1.6):
//
//	0x00 u64 version   (QuoteBufVersion, written by the TD)
//	0x08 u64 status    (QuoteStatus*, written by the host)
//	0x10 u32 in_len    (TDREPORT length, written by the TD)
//	0x14 u32 out_len   (quote length, written by the host)
//	0x18 data          (TDREPORT in, quote out)
const (
	QuoteBufVersion    = 1
	QuoteBufHeaderSize = 0x18
	quoteOffStatus     = 0x08
	quoteOffInLen      = 0x10
	quoteOffOutLen     = 0x14
)

// QuoteStatus is the status field of the GetQuote buffer ([GHCI] Table
// 3-11).
type QuoteStatus uint64

// GetQuote buffer statuses.
const (
	QuoteStatusSuccess            QuoteStatus = 0
	QuoteStatusInFlight           QuoteStatus = 0xFFFFFFFF_FFFFFFFF // the host owns the buffer
	QuoteStatusError              QuoteStatus = 0x80000000_00000000
	QuoteStatusServiceUnavailable QuoteStatus = 0x80000000_00000001
)

// QuoteBufHeader is the header of the GetQuote buffer.
type QuoteBufHeader struct {
	Version uint64
	Status  QuoteStatus
	InLen   uint32
	OutLen  uint32
}

// ErrShortQuoteBuf is returned for a buffer shorter than the header.
var ErrShortQuoteBuf = errors.New("tdx: GetQuote buffer shorter than its header")

// ParseQuoteBufHeader decodes the header at the start of b.
func ParseQuoteBufHeader(b []byte) (QuoteBufHeader, error) {
	if len(b) < QuoteBufHeaderSize {
		return QuoteBufHeader{}, ErrShortQuoteBuf
	}
	return QuoteBufHeader{
		Version: binary.LittleEndian.Uint64(b),
		Status:  QuoteStatus(binary.LittleEndian.Uint64(b[quoteOffStatus:])),
		InLen:   binary.LittleEndian.Uint32(b[quoteOffInLen:]),
		OutLen:  binary.LittleEndian.Uint32(b[quoteOffOutLen:]),
	}, nil
}

// Put encodes h at the start of b, which must hold QuoteBufHeaderSize bytes.
func (h QuoteBufHeader) Put(b []byte) {
	binary.LittleEndian.PutUint64(b, h.Version)
	binary.LittleEndian.PutUint64(b[quoteOffStatus:], uint64(h.Status))
	binary.LittleEndian.PutUint32(b[quoteOffInLen:], h.InLen)
	binary.LittleEndian.PutUint32(b[quoteOffOutLen:], h.OutLen)
}

// QuoteFromBuf returns the quote a completed buffer b holds: it checks the status
// and that out_len is non-zero and fits in b after the header. The result
// aliases b.
func QuoteFromBuf(b []byte) ([]byte, error) {
	h, err := ParseQuoteBufHeader(b)
	if err != nil {
		return nil, err
	}
	switch h.Status {
	case QuoteStatusSuccess:
	case QuoteStatusInFlight:
		return nil, ErrQuoteBusy
	default:
		return nil, &QuoteStatusErr{h.Status}
	}
	if h.OutLen == 0 || uint64(h.OutLen) > uint64(len(b)-QuoteBufHeaderSize) {
		return nil, fmt.Errorf("%w: out_len %d, room %d", ErrQuoteLength, h.OutLen, len(b)-QuoteBufHeaderSize)
	}
	return b[QuoteBufHeaderSize : QuoteBufHeaderSize+int(h.OutLen)], nil
}

// GetQuote errors.
var (
	ErrQuoteBusy    = errors.New("tdx: GetQuote buffer is still owned by the host (IN_FLIGHT)")
	ErrQuoteTimeout = errors.New("tdx: GetQuote did not complete in time")
	ErrQuoteLength  = errors.New("tdx: GetQuote: host returned an invalid out_len")
)

// QuoteStatusErr is a failed GetQuote status reported by the host.
type QuoteStatusErr struct{ Status QuoteStatus }

func (e *QuoteStatusErr) Error() string {
	return fmt.Sprintf("tdx: GetQuote failed with status %#x", uint64(e.Status))
}

// GetQuote turns a TDREPORT into a quote through the host's quoting
// service with TDG.VP.VMCALL<GetQuote> ([GHCI] §3.3; Linux
// tdx_report_new_locked() and wait_for_quote_completion()):
//
//  1. refuse if the buffer is still IN_FLIGHT from an earlier request;
//  2. zero it, write version 1, in_len 1024 and the TDREPORT;
//  3. call GetQuote with the buffer's shared GPA and size;
//  4. poll the status (g.Poll between reads) until it leaves IN_FLIGHT;
//  5. check status and out_len against the buffer and copy the quote out
//     (one copy: the host may rewrite the buffer at any time).
//
// Preconditions: [bufPA, bufPA+size) is memory the caller owns, already
// converted to shared (Platform.ToShared); size is a non-zero multiple of
// 4 KiB large enough for the header and the TDREPORT.
func (g *Guest) GetQuote(bufPA, size uint64, tdreport *[ReportSize]byte) ([]byte, error) {
	if size < QuoteBufHeaderSize+ReportSize || size%tee.PageSize != 0 || size > 1<<30 {
		return nil, fmt.Errorf("tdx: GetQuote buffer size %#x", size)
	}
	if err := g.checkRange(bufPA, size); err != nil {
		return nil, err
	}
	b, err := g.buf(bufPA, int(size))
	if err != nil {
		return nil, err
	}
	if h, _ := ParseQuoteBufHeader(b); h.Status == QuoteStatusInFlight {
		return nil, ErrQuoteBusy
	}
	clear(b)
	QuoteBufHeader{Version: QuoteBufVersion, InLen: ReportSize}.Put(b)
	copy(b[QuoteBufHeaderSize:], tdreport[:])
	a := Args{R12: bufPA | g.SharedBit(), R13: size}
	if err := g.vmcall(VMCallGetQuote, ExposeStandard, &a); err != nil {
		return nil, fmt.Errorf("tdx: GetQuote: %w", err)
	}
	max := g.MaxPolls
	if max <= 0 {
		max = 30
	}
	snap := make([]byte, size)
	for i := 0; ; i++ {
		copy(snap[:QuoteBufHeaderSize], b)
		h, _ := ParseQuoteBufHeader(snap)
		if h.Status != QuoteStatusInFlight {
			break
		}
		if i >= max {
			return nil, ErrQuoteTimeout
		}
		if g.Poll != nil {
			g.Poll()
		}
	}
	copy(snap[QuoteBufHeaderSize:], b[QuoteBufHeaderSize:])
	q, err := QuoteFromBuf(snap)
	if err != nil {
		return nil, err
	}
	return q, nil
}

package tdx

import (
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/frame/tee"
)

// Evidence is the TD's attestation mechanism as the frame offers it to
// services: TDG.MR.REPORT over a private buffer the frame owns, and
// GetQuote over a shared one. Formats and policy (parsing the TDREPORT,
// the /dev/tdx_guest ABI) are services' business (services/tee). Methods
// are safe for concurrent use; calls are serialised because they share
// the buffers.
type Evidence struct {
	p *Platform

	mu        sync.Mutex
	reportPA  uint64 // private: TDREPORT at +0 (1024 B), REPORTDATA at +ReportSize (64 B)
	quotePA   uint64 // shared GetQuote buffer, 0 if none
	quoteSize uint64
}

// NewEvidence returns the TD's evidence primitives. page is a private,
// page-aligned 4 KiB page the caller gives up for TDG.MR.REPORT's operands
// (the TDREPORT is 1024-aligned at its start, REPORTDATA 64-aligned after
// it: [TDX-ABI] "TDG.MR.REPORT" operand alignment). quotePA, quoteSize
// (optional; 0 for none) is private memory for the GetQuote buffer,
// which NewEvidence converts to shared (Platform.ToShared).
//
// Preconditions: the caller owns page and the quote buffer and touches
// neither again.
func (p *Platform) NewEvidence(page, quotePA, quoteSize uint64) (*Evidence, error) {
	if page%tee.PageSize != 0 {
		return nil, fmt.Errorf("%w: report page %#x", ErrBadRange, page)
	}
	e := &Evidence{p: p, reportPA: page}
	if quoteSize != 0 {
		if quoteSize%tee.PageSize != 0 || quoteSize < QuoteBufHeaderSize+ReportSize {
			return nil, fmt.Errorf("tdx: GetQuote buffer size %#x", quoteSize)
		}
		if err := p.ToShared(quotePA, int(quoteSize/tee.PageSize)); err != nil {
			return nil, err
		}
		e.quotePA, e.quoteSize = quotePA, quoteSize
	}
	return e, nil
}

// Report runs TDG.MR.REPORT (subtype 0) with REPORTDATA data and returns the
// 1024-byte TDREPORT_STRUCT (Linux tdx_mcall_get_report0). A failure is a
// *StatusError with the TDX module's status.
func (e *Evidence) Report(data *[ReportDataSize]byte) (*[ReportSize]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.p.g.MRReport(e.reportPA, e.reportPA+ReportSize, data)
}

// Quote turns a TDREPORT into a quote with TDG.VP.VMCALL<GetQuote> over the
// shared buffer (Guest.GetQuote; [GHCI] §3.3). The quote comes from the
// host's quoting service and is untrusted bytes until verified.
func (e *Evidence) Quote(tdreport *[ReportSize]byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.quoteSize == 0 {
		return nil, fmt.Errorf("tdx: no GetQuote buffer")
	}
	return e.p.g.GetQuote(e.quotePA, e.quoteSize, tdreport)
}

// ExtendRTMR runs TDG.MR.RTMR.EXTEND on RTMR[index] with digest, staged in
// the evidence page (Guest.ExtendRTMR).
func (e *Evidence) ExtendRTMR(index int, digest *[DigestSize]byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.p.g.ExtendRTMR(e.reportPA+ReportSize+ReportDataSize, index, digest)
}

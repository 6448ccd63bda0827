package model

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"slices"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/services/tee/snp"
)

// fwInvalidParam is the firmware status the model's secure processor
// returns for a message it refuses (bad authentication, sequence number,
// version or type): SEV status INVALID_PARAM, the model's choice.
const fwInvalidParam = snp.StatusInvalidParm

// psp is the model's secure processor (AMD-SP): the VMPCKs it shares with
// the guest through the secrets page and the per-key sequence numbers.
type psp struct {
	m        *Model
	vmpck    [4][snp.VMPCKSize]byte
	last     [4]uint64 // last sequence number used with each key
	rootKey  [32]byte  // model root key for derived keys
	reportID [32]byte
}

func (p *psp) init(m *Model) {
	p.m = m
	for i := range p.vmpck {
		m.fill(p.vmpck[i][:])
	}
	m.fill(p.rootKey[:])
	m.fill(p.reportID[:])
}

// sharedRange reports whether n pages from pa are shared RAM.
//
// Preconditions: m.mu held.
func (m *Model) sharedRange(pa, n uint64) bool {
	if pa%tee.PageSize != 0 || n == 0 {
		return false
	}
	for gfn := pa / tee.PageSize; gfn < pa/tee.PageSize+n; gfn++ {
		if gfn >= uint64(len(m.pages)) || m.pages[gfn] != Shared {
			return false
		}
	}
	return true
}

// certTable returns the host's certificate table for extended reports:
// the signer's, or nil for a host that has none (it then completes an
// extended request as a plain one, needing no pages).
//
// Preconditions: m.mu held.
func (m *Model) certTable() []byte {
	if m.cfg.Signer != nil {
		if t, err := m.cfg.Signer.CertTableBytes(); err == nil {
			return t
		}
	}
	return nil
}

// guestRequest handles NAE 0x80000011/0x80000012 ([GHCB] §4.1.8): request
// and response pages (SW_EXITINFO1/2) must be distinct shared pages, the
// certificate buffer (RAX, RBX pages) too. Results go to SW_EXITINFO2:
// VMM error in bits 63:32, firmware error in 31:0.
//
// Preconditions: m.mu held.
func (m *Model) guestRequest(g sev.GHCB, ext bool) error {
	reqPA, respPA := g.Raw(sev.FieldSWExitInfo1), g.Raw(sev.FieldSWExitInfo2)
	if !m.sharedRange(reqPA, 1) || !m.sharedRange(respPA, 1) || reqPA == respPA {
		m.violate("guest request with request page %#x, response page %#x: must be distinct shared pages", reqPA, respPA)
		return m.refuse(g, sev.GHCBErrInvalidInput)
	}
	g.Set(sev.FieldSWExitInfo1, 0)
	if m.hostile(6) {
		g.Set(sev.FieldSWExitInfo2, sev.VMMErrBusy<<32)
		return nil
	}
	var certs []byte
	var certsPA uint64
	if ext {
		certs = m.certTable()
		need := uint64(len(certs)+tee.PageSize-1) / tee.PageSize
		certsPA = g.Raw(sev.FieldRAX)
		n := g.Raw(sev.FieldRBX)
		if n < need || m.hostile(6) {
			g.Set(sev.FieldRBX, max(need, n+1))
			g.Set(sev.FieldSWExitInfo2, sev.VMMErrInvalidLen<<32)
			return nil
		}
		if n > 0 && !m.sharedRange(certsPA, n) {
			m.violate("extended guest request with certificate buffer %#x+%d pages: not shared", certsPA, n)
			return m.refuse(g, sev.GHCBErrInvalidInput)
		}
		certs = append(certs, make([]byte, n*tee.PageSize-uint64(len(certs)))...)
	}
	req := slices.Clone(m.cfg.Memory(reqPA, snp.MsgPageSize))
	resp, fwErr := m.psp.handle(req)
	if fwErr != 0 {
		g.Set(sev.FieldSWExitInfo2, fwErr)
		return nil
	}
	out := m.cfg.Memory(respPA, snp.MsgPageSize)
	copy(out, resp)
	if m.hostile(8) { // the host owns the response page
		out[m.rng.IntN(snp.MsgHeaderSize+64)] ^= byte(1 + m.rng.IntN(255))
	}
	if ext {
		copy(m.cfg.Memory(certsPA, len(certs)), certs)
	}
	g.Set(sev.FieldSWExitInfo2, 0)
	return nil
}

// handle is the secure processor's side of a guest message ([SNP-ABI]
// §7.4 "MSG_*"): authenticate under the VMPCK the header names, require
// the next sequence number (so no IV is ever accepted twice), answer with
// sequence number + 1 and type + 1.
func (p *psp) handle(req []byte) ([]byte, uint64) {
	h, err := snp.ParseMsgHeader(req)
	if err != nil {
		p.m.violate("guest message: %v", err)
		return nil, fwInvalidParam
	}
	key := p.vmpck[h.VMPCK][:]
	_, pt, err := snp.OpenMessage(req, key)
	if err != nil {
		p.m.violate("guest message: %v", err)
		return nil, fwInvalidParam
	}
	if h.Seqno != p.last[h.VMPCK]+1 {
		p.m.violate("guest message with sequence number %d, expected %d (replay or IV reuse)", h.Seqno, p.last[h.VMPCK]+1)
		return nil, fwInvalidParam
	}
	if h.Version != 1 {
		return nil, fwInvalidParam
	}
	var out []byte
	switch h.Type {
	case snp.MsgReportReq:
		out = p.report(pt, h.VMPCK)
	case snp.MsgKeyReq:
		out = p.derivedKey(pt, h.VMPCK)
	default:
		return nil, fwInvalidParam
	}
	resp := make([]byte, snp.MsgPageSize)
	if err := snp.SealMessage(resp, key, h.Seqno+1, h.Type+1, h.Version, h.VMPCK, out); err != nil {
		return nil, fwInvalidParam
	}
	p.last[h.VMPCK] = h.Seqno + 1
	return resp, 0
}

// report answers MSG_REPORT_REQ with MSG_REPORT_RSP: a version 2 report
// with the model's measurements, REPORT_DATA echoed, signed by the signer
// (VCEK, signer info 0).
func (p *psp) report(req []byte, vmpck uint8) []byte {
	rsp := make([]byte, snp.ReportRspHdrSize)
	userData, vmpl, keySel, err := snp.DecodeReportReq(req)
	switch {
	case err != nil || vmpl > 3 || vmpl < uint32(vmpck):
		binary.LittleEndian.PutUint32(rsp, snp.StatusInvalidParm)
		return rsp
	case keySel > 1: // 0 either, 1 VCEK; the model has no VLEK
		binary.LittleEndian.PutUint32(rsp, snp.StatusInvalidKey)
		return rsp
	}
	ms := p.m.cfg.Measurements
	r := snp.Report{
		Version:       2,
		GuestSVN:      ms.GuestSVN,
		Policy:        ms.Policy,
		FamilyID:      ms.FamilyID,
		ImageID:       ms.ImageID,
		VMPL:          vmpl,
		SignatureAlgo: snp.SigAlgoECDSAP384,
		ReportData:    userData,
		Measurement:   ms.Measurement,
		HostData:      ms.HostData,
		ReportID:      p.reportID,
	}
	b := r.Marshal()
	if s := p.m.cfg.Signer; s != nil {
		R, S, err := s.Sign(b[:snp.ReportSignedSize])
		if err != nil {
			binary.LittleEndian.PutUint32(rsp, snp.StatusInvalidParm)
			return rsp
		}
		putLE(b[snp.ReportSignatureR:][:snp.ReportSigComponentLen], R.Bytes())
		putLE(b[snp.ReportSignatureS:][:snp.ReportSigComponentLen], S.Bytes())
	}
	binary.LittleEndian.PutUint32(rsp[4:], snp.ReportSize)
	return append(rsp, b...)
}

// putLE stores the big-endian integer be little-endian in dst.
func putLE(dst, be []byte) {
	clear(dst)
	for i := range min(len(be), len(dst)) {
		dst[i] = be[len(be)-1-i]
	}
}

// derivedKey answers MSG_KEY_REQ with a key derived by HMAC-SHA-384 from
// the model root key, the request and the measurement: deterministic per
// model and request, but not AMD's derivation.
func (p *psp) derivedKey(req []byte, vmpck uint8) []byte {
	rsp := make([]byte, snp.KeyRspSize)
	kr, err := snp.DecodeKeyReq(req)
	if err != nil || kr.RootKeySelect > 1 || kr.VMPL > 3 || kr.VMPL < uint32(vmpck) {
		binary.LittleEndian.PutUint32(rsp, snp.StatusInvalidParm)
		return rsp
	}
	mac := hmac.New(sha512.New384, p.rootKey[:])
	mac.Write(req)
	mac.Write(p.m.cfg.Measurements.Measurement[:])
	copy(rsp[0x20:], mac.Sum(nil))
	return rsp
}

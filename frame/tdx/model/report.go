package model

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/tdx"
	tdxreport "github.com/aster-cvm/aster/services/tee/tdx"
)

// reportMACKey is the model's REPORTMACSTRUCT MAC key. A real TDX module
// MACs the report with a CPU-internal key only TDG.MR.VERIFYREPORT and the
// quoting enclave can check; this one is published here so tests can check
// it: a model report proves nothing.
var reportMACKey = sha512.Sum384([]byte("Aster model-tdx TDREPORT MAC key: a published test key, not a secret"))

// Identity of the modelled TDX module (TEE_TCB_INFO). MRSEAM is a hash of a
// label, not of any Intel module; MRSIGNERSEAM is zero as for Intel-signed
// modules.
var (
	modelCPUSVN    = [16]byte{'A', 's', 't', 'e', 'r', 'M', 'o', 'd', 'e', 'l'}
	modelTeeTCBSVN = [16]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	modelMRSeam    = sha512.Sum384([]byte("Aster model TDX module, not Intel"))
)

// reportMAC computes the model's MAC over the REPORTMACSTRUCT bytes before
// the MAC field (0x000..0x0DF): HMAC-SHA-384 truncated to 32 bytes.
func reportMAC(r []byte) [32]byte {
	h := hmac.New(sha512.New384, reportMACKey[:])
	h.Write(r[:tdxreport.ReportOffMAC])
	var mac [32]byte
	copy(mac[:], h.Sum(nil))
	return mac
}

// VerifyReportMAC reports whether report is a 1024-byte TDREPORT whose MAC
// the model computed (what the modelled quoting enclave checks).
func VerifyReportMAC(report []byte) bool {
	if len(report) != tdx.ReportSize {
		return false
	}
	mac := reportMAC(report)
	return hmac.Equal(mac[:], report[tdxreport.ReportOffMAC:tdxreport.ReportOffMAC+32])
}

// report builds the TDREPORT_STRUCT of the TD for REPORTDATA data
// ([TDX-ABI] Tables 4.17, 4.18, 4.20; TEE-REFERENCE.md §1.10).
func (m *Model) report(data *[tdx.ReportDataSize]byte) [tdx.ReportSize]byte {
	var r [tdx.ReportSize]byte
	r[0], r[1], r[2] = tdxreport.ReportTypeTDX, 0, 0 // TDX, subtype 0, version 0
	copy(r[tdxreport.ReportOffCPUSVN:], modelCPUSVN[:])
	tcb := r[tdxreport.ReportOffTeeTCBInfo : tdxreport.ReportOffTeeTCBInfo+tdxreport.TeeTCBInfoSize]
	binary.LittleEndian.PutUint64(tcb[tdxreport.TCBInfoOffValid:], 0x1FF) // the fields below are valid
	copy(tcb[tdxreport.TCBInfoOffTeeTCBSVN:], modelTeeTCBSVN[:])
	copy(tcb[tdxreport.TCBInfoOffMRSeam:], modelMRSeam[:])
	ti := r[tdxreport.ReportOffTDInfo : tdxreport.ReportOffTDInfo+tdxreport.TDInfoSize]
	binary.LittleEndian.PutUint64(r[tdxreport.ReportOffAttributes:], m.cfg.Attributes)
	binary.LittleEndian.PutUint64(r[tdxreport.ReportOffXFAM:], m.cfg.XFAM)
	ms := &m.cfg.Measurements
	copy(r[tdxreport.ReportOffMRTD:], ms.MRTD[:])
	copy(r[tdxreport.ReportOffMRConfigID:], ms.MRConfigID[:])
	copy(r[tdxreport.ReportOffMROwner:], ms.MROwner[:])
	copy(r[tdxreport.ReportOffMROwnerConfig:], ms.MROwnerConfig[:])
	for i := range m.rtmr {
		copy(r[tdxreport.ReportOffRTMR0+i*tdx.DigestSize:], m.rtmr[i][:])
	}
	tcbHash := sha512.Sum384(tcb)
	infoHash := sha512.Sum384(ti)
	copy(r[tdxreport.ReportOffTeeTCBInfoHash:], tcbHash[:])
	copy(r[tdxreport.ReportOffTeeInfoHash:], infoHash[:])
	copy(r[tdxreport.ReportOffReportData:], data[:])
	mac := reportMAC(r[:])
	copy(r[tdxreport.ReportOffMAC:], mac[:])
	return r
}

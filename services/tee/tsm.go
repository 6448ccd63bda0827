package tee

import (
	"encoding/binary"
	"errors"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/snp"
	"github.com/aster-cvm/aster/services/tee/tdx"
	"github.com/aster-cvm/aster/services/tee/tsm"
)

// configfs-tsm report providers (package tsm). Linux's guest drivers
// register theirs in the same probe that registers the misc device, over
// the same channel (sev-guest.c sev_tsm_ops, tdx-guest.c tdx_report_ops);
// here each device hands out its provider, so /dev/sev-guest and
// tsm/report share one Messenger, one VMPCK and one sequence-number
// space, and /dev/tdx_guest and tsm/report one TDXEvidence.

// ReportProvider returns the configfs-tsm provider "sev_guest" over the
// device's messenger (Linux sev_report_new). Its privlevel_floor is the
// VMPCK in use, as sev_guest_probe sets it.
func (d *SEVGuest) ReportProvider() tsm.Provider {
	floor := uint(0)
	if v, ok := d.m.(interface{ VMPCK() int }); ok {
		floor = uint(v.VMPCK())
	}
	return &snpReports{dev: d, floor: floor}
}

// snpReports is the SNP provider.
type snpReports struct {
	dev   *SEVGuest
	floor uint
}

// Name implements tsm.Provider (KBUILD_MODNAME of sev-guest.c).
func (*snpReports) Name() string { return "sev_guest" }

// PrivlevelFloor implements tsm.Provider.
func (p *snpReports) PrivlevelFloor() uint { return p.floor }

// Visible implements tsm.Provider as sev_report_attr_visible and
// sev_report_bin_attr_visible do at VMPL 0 (no SVSM): manifestblob and
// the service_* attributes stay hidden.
func (*snpReports) Visible(name string) bool {
	switch name {
	case tsm.AttrGeneration, tsm.AttrProvider, tsm.AttrPrivlevel, tsm.AttrPrivlevelFloor,
		tsm.AttrInBlob, tsm.AttrOutBlob, tsm.AttrAuxBlob:
		return true
	}
	return false
}

// certEntrySize is struct snp_msg_cert_entry: a GUID, then offset and
// length (u32 each) of one certificate in the table's buffer.
const certEntrySize = 24

// Generate implements tsm.Provider as Linux sev_report_new does: exactly
// 64 bytes of inblob (EINVAL), an extended report request at privlevel
// offering the whole certificate buffer (SEV_FW_BLOB_MAX_SIZE); the
// response's status INVALID_PARAM or INVALID_KEY is EINVAL, another
// non-zero status ENXIO. outblob is the report without the response
// header; auxblob the certificate table up to the end of its farthest
// certificate (nothing if the host supplied none). Errors of the guest
// request are those SNP_GET_EXT_REPORT returns (ENOTTY once the VMPCK is
// disabled).
func (p *snpReports) Generate(d tsm.Desc) (tsm.Blobs, error) {
	if len(d.InBlob) != 64 {
		return tsm.Blobs{}, linux.EINVAL
	}
	m := p.dev.m
	if m.Disabled() {
		return tsm.Blobs{}, linux.ENOTTY
	}
	var ud [64]byte
	copy(ud[:], d.InBlob)
	const pages = snp.MaxCertsSize / pageSize
	rsp, certs, err := m.ExtRequest(snp.MsgReportReq, 1, snp.EncodeReportReq(ud, uint32(d.Privlevel)), pages)
	if err != nil {
		if errors.Is(err, snp.ErrVMPCKDisabled) {
			return tsm.Blobs{}, linux.ENOTTY
		}
		r := &sevRequest{}
		return tsm.Blobs{}, r.result(err)
	}
	if len(rsp) < snp.ReportRspHdrSize {
		return tsm.Blobs{}, linux.EIO
	}
	le := binary.LittleEndian
	switch st := le.Uint32(rsp); st {
	case snp.StatusOK:
	case snp.StatusInvalidParm, snp.StatusInvalidKey:
		return tsm.Blobs{}, linux.EINVAL
	default:
		return tsm.Blobs{}, linux.ENXIO
	}
	n := int(le.Uint32(rsp[4:]))
	if n+snp.ReportRspHdrSize > pageSize || n+snp.ReportRspHdrSize > len(rsp) {
		return tsm.Blobs{}, linux.ENOMEM
	}
	out := tsm.Blobs{Out: append([]byte(nil), rsp[snp.ReportRspHdrSize:snp.ReportRspHdrSize+n]...)}
	if size := certTableSize(certs); size > 0 {
		out.Aux = append([]byte(nil), certs[:size]...)
	}
	return out, nil
}

// certTableSize returns how much of the certificate buffer the table
// uses: the farthest end of a certificate its entries (up to the all-zero
// one) name, bounded by the buffer (Linux warns "certificate data
// truncated" and truncates).
func certTableSize(certs []byte) int {
	le := binary.LittleEndian
	size := uint64(0)
	for off := 0; off+certEntrySize <= len(certs); off += certEntrySize {
		e := certs[off : off+certEntrySize]
		o, n := le.Uint32(e[16:]), le.Uint32(e[20:])
		if o == 0 && n == 0 && allZero(e[:16]) {
			break
		}
		size = max(size, uint64(o)+uint64(n))
	}
	return int(min(size, uint64(len(certs))))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ReportProvider returns the configfs-tsm provider "tdx_guest" over the
// device's evidence (Linux tdx_report_new).
func (d *TDXGuest) ReportProvider() tsm.Provider { return &tdxReports{dev: d} }

// tdxReports is the TDX provider.
type tdxReports struct{ dev *TDXGuest }

// Name implements tsm.Provider (KBUILD_MODNAME of tdx-guest.c).
func (*tdxReports) Name() string { return "tdx_guest" }

// PrivlevelFloor implements tsm.Provider: TDX has no privilege levels
// (privlevel is hidden).
func (*tdxReports) PrivlevelFloor() uint { return 0 }

// Visible implements tsm.Provider as tdx_report_attr_visible and
// tdx_report_bin_attr_visible do: generation, provider, inblob, outblob.
func (*tdxReports) Visible(name string) bool {
	switch name {
	case tsm.AttrGeneration, tsm.AttrProvider, tsm.AttrInBlob, tsm.AttrOutBlob:
		return true
	}
	return false
}

// Generate implements tsm.Provider as Linux tdx_report_new does: exactly
// 64 bytes of inblob (EINVAL), TDG.MR.REPORT with them as REPORTDATA
// (errors as TDX_CMD_GET_REPORT0 maps them), then GetQuote; a failed
// quote is EIO. outblob is the quote.
func (p *tdxReports) Generate(d tsm.Desc) (tsm.Blobs, error) {
	if len(d.InBlob) != tdx.ReportDataSize {
		return tsm.Blobs{}, linux.EINVAL
	}
	var data [tdx.ReportDataSize]byte
	copy(data[:], d.InBlob)
	rep, err := p.dev.e.Report(&data)
	if err != nil {
		return tsm.Blobs{}, errno(err)
	}
	q, err := p.dev.e.Quote(rep)
	if err != nil || len(q) == 0 {
		return tsm.Blobs{}, linux.EIO
	}
	return tsm.Blobs{Out: append([]byte(nil), q...)}, nil
}

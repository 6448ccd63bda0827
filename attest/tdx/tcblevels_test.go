package tdx

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-tdx-guest/pcs"
	pb "github.com/google/go-tdx-guest/proto/tdx"
)

// loadTCBInfo reads a PCS "Get TDX TCB Info" response from testdata.
func loadTCBInfo(t *testing.T, name string) pcs.TcbInfo {
	t.Helper()
	var r struct {
		TcbInfo pcs.TcbInfo `json:"tcbInfo"`
	}
	if err := json.Unmarshal(mustRead(t, name), &r); err != nil {
		t.Fatal(err)
	}
	return r.TcbInfo
}

// loadQEIdentity reads go-tdx-guest's sample QE identity response: TD_QE,
// MRSIGNER dc9e2a7c…, ISVPRODID 2, one level (ISVSVN 4, UpToDate).
func loadQEIdentity(t *testing.T) pcs.EnclaveIdentity {
	t.Helper()
	var r pcs.QeIdentity
	if err := json.Unmarshal(mustRead(t, "sample_qeIdentity_response"), &r); err != nil {
		t.Fatal(err)
	}
	return r.EnclaveIdentity
}

// qeReport returns a QE report that matches the sample QE identity.
func qeReport(id pcs.EnclaveIdentity, isvsvn uint32) *pb.EnclaveReport {
	return &pb.EnclaveReport{MrSigner: id.Mrsigner.Bytes, IsvProdId: uint32(id.IsvProdID), IsvSvn: isvsvn,
		MiscSelect: 0, Attributes: append([]byte(nil), id.Attributes.Bytes...)}
}

// svn16 pads the leading SVNs to the 16 components of CPUSVN/TEE_TCB_SVN.
func svn16(lead ...byte) []byte { return append(lead, make([]byte, 16-len(lead))...) }

// comps turns SVNs into TCB-level components.
func comps(svns []byte) []pcs.TcbComponent {
	c := make([]pcs.TcbComponent, len(svns))
	for i, s := range svns {
		c[i].Svn = s
	}
	return c
}

// synthetic replaces the platform levels of the v5 sample with one level
// per status, told apart by SGX component 0 (10 = UpToDate down to 4 =
// Revoked), each with its own tcbDate and advisory, so a CPUSVN selects a
// status. TDX components and PCESVN are those of the sample's top level.
func synthetic(t *testing.T) pcs.TcbInfo {
	info := loadTCBInfo(t, "sample_tcbinfo_response_v5")
	top := info.TcbLevels[0].Tcb
	info.TcbLevels = nil
	for i, s := range Statuses {
		sgx := svn16(byte(10-i), 3, 2, 2, 4, 1, 0, 5)
		l := pcs.TcbLevel{Tcb: pcs.Tcb{SgxTcbcomponents: comps(sgx), Pcesvn: top.Pcesvn, TdxTcbcomponents: top.TdxTcbcomponents},
			TcbDate: "2024-0" + string(rune('9'-i)) + "-01T00:00:00Z", TcbStatus: pcs.TcbComponentStatus(s)}
		if s != UpToDate {
			l.AdvisoryIDs = []string{"INTEL-SA-9000" + string(rune('0'+i))}
		}
		info.TcbLevels = append(info.TcbLevels, l)
	}
	return info
}

// TestTCBLevels runs Intel's TCB-status algorithm (evaluateTCB) over
// go-tdx-guest's sample TCB info responses and synthetic levels: SGX
// components and PCESVN, TDX components (from index 2 when a TDX module
// identity applies), the TDX_<n> module identities and their levels, the
// QE identity, and convergence, down to the status, tcbDate and advisory
// IDs reported.
func TestTCBLevels(t *testing.T) {
	v3 := loadTCBInfo(t, "sample_tcbInfo_response")    // FMSPC 50806f000000, no module identities
	v5 := loadTCBInfo(t, "sample_tcbinfo_response_v5") // FMSPC 90c06f000000, TDX_03 and TDX_01
	syn := synthetic(t)                                // FMSPC 90c06f000000, one level per status
	qeID := loadQEIdentity(t)
	qeOld := qeID // a QE identity with an OutOfDate level below ISVSVN 4
	qeOld.TcbLevels = append(append([]pcs.TcbLevel(nil), qeID.TcbLevels...),
		pcs.TcbLevel{Tcb: pcs.Tcb{Isvsvn: 2}, TcbDate: "2022-01-01T00:00:00Z", TcbStatus: OutOfDate, AdvisoryIDs: []string{"INTEL-SA-00999"}})

	sa2024 := []string{"INTEL-SA-01036", "INTEL-SA-01079", "INTEL-SA-01099", "INTEL-SA-01103", "INTEL-SA-01111"}
	for _, tc := range []struct {
		name         string
		info         pcs.TcbInfo
		qeID         pcs.EnclaveIdentity
		cpusvn       []byte
		pcesvn       uint16
		teeTcbSvn    []byte
		qeSVN        uint32
		status, date string
		module       string
		advisories   []string
		err          string
	}{
		// v3 sample: TEE_TCB_SVN[1] = 0, so tcbInfo.tdxModule applies and
		// every TDX component counts.
		{name: "v3 UpToDate", info: v3, qeID: qeID, cpusvn: svn16(5, 5, 2, 2, 3, 1, 0, 3), pcesvn: 11, teeTcbSvn: svn16(3, 0, 5), qeSVN: 4,
			status: UpToDate, date: "2023-02-15T00:00:00Z"},
		{name: "v3 PCESVN below the top level", info: v3, qeID: qeID, cpusvn: svn16(5, 5, 2, 2, 3, 1, 0, 3), pcesvn: 10, teeTcbSvn: svn16(3, 0, 5), qeSVN: 4,
			status: OutOfDate, date: "2018-01-04T00:00:00Z",
			advisories: []string{"INTEL-SA-00106", "INTEL-SA-00115", "INTEL-SA-00135", "INTEL-SA-00203", "INTEL-SA-00220", "INTEL-SA-00233", "INTEL-SA-00270",
				"INTEL-SA-00293", "INTEL-SA-00320", "INTEL-SA-00329", "INTEL-SA-00381", "INTEL-SA-00389", "INTEL-SA-00477"}},
		{name: "v3 TDX module SVN byte 0 counts", info: v3, qeID: qeID, cpusvn: svn16(5, 5, 2, 2, 3, 1, 0, 3), pcesvn: 11, teeTcbSvn: svn16(2, 0, 5), qeSVN: 4,
			err: "no matching TCB level"},
		{name: "v3 PCESVN below every level", info: v3, qeID: qeID, cpusvn: svn16(5, 5, 2, 2, 3, 1, 0, 3), pcesvn: 4, teeTcbSvn: svn16(3, 0, 5), qeSVN: 4,
			err: "no matching TCB level"},
		{name: "v3 SGX component below every level", info: v3, qeID: qeID, cpusvn: svn16(5, 4, 2, 2, 3, 1, 0, 3), pcesvn: 11, teeTcbSvn: svn16(3, 0, 5), qeSVN: 4,
			err: "no matching TCB level"},

		// v5 sample: TEE_TCB_SVN[1] = 1 selects TDX_01; bytes 0-1 leave
		// the platform match to the module identity's levels.
		{name: "v5 TDX_01 UpToDate", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: UpToDate, module: UpToDate, date: "2024-11-13T00:00:00Z"},
		{name: "v5 TDX_01 module OutOfDate", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(4, 1, 3), qeSVN: 4,
			status: OutOfDate, module: OutOfDate, date: "2024-11-13T00:00:00Z", advisories: []string{"INTEL-SA-01036", "INTEL-SA-01099"}},
		{name: "v5 TDX_01 below every module level", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(1, 1, 3), qeSVN: 4,
			err: "no TCB level of TDX module TDX_01 matches its ISVSVN 1"},
		{name: "v5 TDX_03", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(3, 3, 3), qeSVN: 4,
			status: UpToDate, module: UpToDate, date: "2024-11-13T00:00:00Z"},
		{name: "v5 no TDX_02 identity", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 2, 3), qeSVN: 4,
			err: "no TDX module identity TDX_02"},
		{name: "v5 TDX component 2 selects the second level", info: v5, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 2), qeSVN: 4,
			status: OutOfDate, module: UpToDate, date: "2024-03-13T00:00:00Z", advisories: sa2024},
		{name: "v5 SGX components select the second level", info: v5, qeID: qeID, cpusvn: svn16(2, 2, 2, 2, 3, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: OutOfDate, module: UpToDate, date: "2024-03-13T00:00:00Z", advisories: sa2024},

		// Synthetic levels: every status, each with its tcbDate and advisory.
		{name: "synthetic UpToDate", info: syn, qeID: qeID, cpusvn: svn16(10, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: UpToDate, module: UpToDate, date: "2024-09-01T00:00:00Z"},
		{name: "synthetic SWHardeningNeeded", info: syn, qeID: qeID, cpusvn: svn16(9, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: SWHardeningNeeded, module: UpToDate, date: "2024-08-01T00:00:00Z", advisories: []string{"INTEL-SA-90001"}},
		{name: "synthetic ConfigurationNeeded", info: syn, qeID: qeID, cpusvn: svn16(8, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: ConfigurationNeeded, module: UpToDate, date: "2024-07-01T00:00:00Z", advisories: []string{"INTEL-SA-90002"}},
		{name: "synthetic ConfigurationAndSWHardeningNeeded", info: syn, qeID: qeID, cpusvn: svn16(7, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: ConfigurationAndSWHardeningNeeded, module: UpToDate, date: "2024-06-01T00:00:00Z", advisories: []string{"INTEL-SA-90003"}},
		{name: "synthetic OutOfDate", info: syn, qeID: qeID, cpusvn: svn16(6, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: OutOfDate, module: UpToDate, date: "2024-05-01T00:00:00Z", advisories: []string{"INTEL-SA-90004"}},
		{name: "synthetic OutOfDateConfigurationNeeded", info: syn, qeID: qeID, cpusvn: svn16(5, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: OutOfDateConfigurationNeeded, module: UpToDate, date: "2024-04-01T00:00:00Z", advisories: []string{"INTEL-SA-90005"}},
		{name: "synthetic Revoked", info: syn, qeID: qeID, cpusvn: svn16(4, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			status: Revoked, module: UpToDate, date: "2024-03-01T00:00:00Z", advisories: []string{"INTEL-SA-90006"}},
		{name: "synthetic below Revoked", info: syn, qeID: qeID, cpusvn: svn16(3, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 4,
			err: "no matching TCB level"},
		// Convergence with the module and the QE: advisories are the union.
		{name: "ConfigurationNeeded with an OutOfDate module", info: syn, qeID: qeID, cpusvn: svn16(8, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(4, 1, 3), qeSVN: 4,
			status: OutOfDateConfigurationNeeded, module: OutOfDate, date: "2024-07-01T00:00:00Z", advisories: []string{"INTEL-SA-01036", "INTEL-SA-01099", "INTEL-SA-90002"}},
		{name: "SWHardeningNeeded with an OutOfDate QE", info: syn, qeID: qeOld, cpusvn: svn16(9, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 3,
			status: OutOfDate, module: UpToDate, date: "2024-08-01T00:00:00Z", advisories: []string{"INTEL-SA-00999", "INTEL-SA-90001"}},
		{name: "QE below every level", info: syn, qeID: qeID, cpusvn: svn16(10, 3, 2, 2, 4, 1, 0, 5), pcesvn: 13, teeTcbSvn: svn16(6, 1, 3), qeSVN: 3,
			err: "no QE identity TCB level matches QE ISVSVN 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ext := &pcs.PckExtensions{FMSPC: tc.info.Fmspc, PCEID: tc.info.PceID,
				TCB: pcs.PckCertTCB{PCESvn: tc.pcesvn, CPUSvnComponents: tc.cpusvn}}
			body := &Body{TeeTcbSvn: tc.teeTcbSvn, MrSignerSeam: make([]byte, 48), SeamAttributes: make([]byte, 8)}
			ev, err := evaluateTCB(&tc.info, &tc.qeID, ext, body, qeReport(tc.qeID, tc.qeSVN))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("evaluateTCB: %+v, %v; want error %q", ev, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Status != tc.status || ev.Date != tc.date || ev.Module != tc.module {
				t.Errorf("status %s, date %s, module %q; want %s, %s, %q", ev.Status, ev.Date, ev.Module, tc.status, tc.date, tc.module)
			}
			if strings.Join(ev.Advisories, ",") != strings.Join(tc.advisories, ",") {
				t.Errorf("advisories %v, want %v", ev.Advisories, tc.advisories)
			}
		})
	}
}

// TestTCBIdentityMismatches: the FMSPC and PCEID of the PCK certificate,
// the module's MRSIGNERSEAM and the QE's MRSIGNER must match the
// collateral.
func TestTCBIdentityMismatches(t *testing.T) {
	v5 := loadTCBInfo(t, "sample_tcbinfo_response_v5")
	qeID := loadQEIdentity(t)
	good := func() (*pcs.PckExtensions, *Body, *pb.EnclaveReport) {
		return &pcs.PckExtensions{FMSPC: v5.Fmspc, PCEID: v5.PceID, TCB: pcs.PckCertTCB{PCESvn: 13, CPUSvnComponents: svn16(3, 3, 2, 2, 4, 1, 0, 5)}},
			&Body{TeeTcbSvn: svn16(6, 1, 3), MrSignerSeam: make([]byte, 48), SeamAttributes: make([]byte, 8)}, qeReport(qeID, 4)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*pcs.PckExtensions, *Body, *pb.EnclaveReport)
		want   string
	}{
		{"fmspc", func(e *pcs.PckExtensions, _ *Body, _ *pb.EnclaveReport) { e.FMSPC = "50806f000000" }, "FMSPC"},
		{"pceid", func(e *pcs.PckExtensions, _ *Body, _ *pb.EnclaveReport) { e.PCEID = "0001" }, "PCEID"},
		{"mrsignerseam", func(_ *pcs.PckExtensions, b *Body, _ *pb.EnclaveReport) { b.MrSignerSeam[0] = 1 }, "MRSIGNERSEAM"},
		{"seamattributes", func(_ *pcs.PckExtensions, b *Body, _ *pb.EnclaveReport) { b.SeamAttributes[7] = 1 }, "SEAMATTRIBUTES"},
		{"qe mrsigner", func(_ *pcs.PckExtensions, _ *Body, q *pb.EnclaveReport) { q.MrSigner = make([]byte, 32) }, "QE MRSIGNER"},
		{"qe isvprodid", func(_ *pcs.PckExtensions, _ *Body, q *pb.EnclaveReport) { q.IsvProdId = 1 }, "ISVPRODID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, b, q := good()
			if _, err := evaluateTCB(&v5, &qeID, e, b, q); err != nil {
				t.Fatalf("unmutated: %v", err)
			}
			tc.mutate(e, b, q)
			if _, err := evaluateTCB(&v5, &qeID, e, b, q); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("evaluateTCB: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

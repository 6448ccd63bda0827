package tdx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-tdx-guest/pcs"
	pb "github.com/google/go-tdx-guest/proto/tdx"
)

// TCB statuses as Intel PCS spells them (PCS API spec v4, tcbLevels
// "tcbStatus").
const (
	UpToDate                          = "UpToDate"
	SWHardeningNeeded                 = "SWHardeningNeeded"
	ConfigurationNeeded               = "ConfigurationNeeded"
	ConfigurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
	OutOfDate                         = "OutOfDate"
	OutOfDateConfigurationNeeded      = "OutOfDateConfigurationNeeded"
	Revoked                           = "Revoked"
)

// Statuses lists every TCB status, best first.
var Statuses = []string{UpToDate, SWHardeningNeeded, ConfigurationNeeded,
	ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked}

// TCBEval is the outcome of Intel's TCB-status algorithm for one quote.
type TCBEval struct {
	// Status is the converged status.
	Status string
	// Platform, Module and QE are the matched levels' statuses.
	Platform, Module, QE string
	// Date is the platform level's tcbDate.
	Date string
	// Advisories is the sorted union of the matched levels' advisory IDs.
	Advisories []string
}

// evaluateTCB implements the TDX TCB-status algorithm of Intel's QVL
// (QuoteVerification TcbLevelCheck / TdxModuleCheck, mirrored in the PCS
// API spec v4 "TDX TCB Info" and go-tdx-guest testdata/README.md):
//
//  1. Walk tcbLevels in order (they are sorted descending) and take the
//     first level where every SGX component SVN of the PCK certificate,
//     the PCESVN, and every TEE_TCB_SVN byte of the TD report are >= the
//     level's. When TEE_TCB_SVN[1] (the TDX module major version) is
//     non-zero, bytes 0 and 1 are left to step 2.
//  2. TDX module: with TEE_TCB_SVN[1] == 0 the quote's MRSIGNERSEAM and
//     SEAMATTRIBUTES must match tcbInfo.tdxModule; otherwise the identity
//     "TDX_<TEE_TCB_SVN[1] in hex>" must exist, match, and have a level
//     with isvsvn <= TEE_TCB_SVN[0].
//  3. QE: the QE report must match the QE identity (MRSIGNER, ISVPRODID,
//     masked MISCSELECT and ATTRIBUTES) and its ISVSVN select a QE level.
//  4. Converge: an OutOfDate module or QE turns UpToDate and
//     SWHardeningNeeded into OutOfDate, and the Configuration* statuses
//     into OutOfDateConfigurationNeeded; Revoked anywhere is Revoked.
//
// Any step that finds no match is an error: the TCB is not supported.
func evaluateTCB(info *pcs.TcbInfo, qeID *pcs.EnclaveIdentity, ext *pcs.PckExtensions, body *Body, qe *pb.EnclaveReport) (*TCBEval, error) {
	ev := &TCBEval{}
	adv := map[string]bool{}

	if !strings.EqualFold(ext.FMSPC, info.Fmspc) {
		return nil, fmt.Errorf("FMSPC of the PCK certificate (%s) is not the TCB info's (%s)", ext.FMSPC, info.Fmspc)
	}
	if !strings.EqualFold(ext.PCEID, info.PceID) {
		return nil, fmt.Errorf("PCEID of the PCK certificate (%s) is not the TCB info's (%s)", ext.PCEID, info.PceID)
	}

	// Step 1: platform level.
	svn := body.TeeTcbSvn
	var level *pcs.TcbLevel
	for i := range info.TcbLevels {
		l := &info.TcbLevels[i]
		if sgxHigherOrEqual(ext.TCB.CPUSvnComponents, l.Tcb.SgxTcbcomponents) &&
			ext.TCB.PCESvn >= l.Tcb.Pcesvn && tdxHigherOrEqual(svn, l.Tcb.TdxTcbcomponents) {
			level = l
			break
		}
	}
	if level == nil {
		return nil, fmt.Errorf("no matching TCB level: platform TCB (CPUSVN %s, PCESVN %d, TEE_TCB_SVN %s) is below every level of FMSPC %s",
			hex.EncodeToString(ext.TCB.CPUSvnComponents), ext.TCB.PCESvn, hex.EncodeToString(svn), info.Fmspc)
	}
	ev.Platform, ev.Date = string(level.TcbStatus), level.TcbDate
	for _, a := range level.AdvisoryIDs {
		adv[a] = true
	}

	// Step 2: TDX module.
	if svn[1] == 0 {
		if err := matchModule(&info.TdxModule.Mrsigner, &info.TdxModule.Attributes, &info.TdxModule.AttributesMask, body, "tcbInfo.tdxModule"); err != nil {
			return nil, err
		}
	} else {
		id := fmt.Sprintf("TDX_%02X", svn[1])
		var ident *pcs.TdxModuleIdentity
		for i := range info.TdxModuleIdentities {
			if strings.EqualFold(info.TdxModuleIdentities[i].ID, id) {
				ident = &info.TdxModuleIdentities[i]
				break
			}
		}
		if ident == nil {
			return nil, fmt.Errorf("no TDX module identity %s in the TCB info", id)
		}
		if err := matchModule(&ident.Mrsigner, &ident.Attributes, &ident.AttributesMask, body, id); err != nil {
			return nil, err
		}
		var ml *pcs.TcbLevel
		for i := range ident.TcbLevels {
			if uint32(svn[0]) >= ident.TcbLevels[i].Tcb.Isvsvn {
				ml = &ident.TcbLevels[i]
				break
			}
		}
		if ml == nil {
			return nil, fmt.Errorf("no TCB level of TDX module %s matches its ISVSVN %d", id, svn[0])
		}
		ev.Module = string(ml.TcbStatus)
		for _, a := range ml.AdvisoryIDs {
			adv[a] = true
		}
	}

	// Step 3: QE identity.
	if err := matchQE(qeID, qe); err != nil {
		return nil, err
	}
	var ql *pcs.TcbLevel
	for i := range qeID.TcbLevels {
		if qeID.TcbLevels[i].Tcb.Isvsvn <= qe.GetIsvSvn() {
			ql = &qeID.TcbLevels[i]
			break
		}
	}
	if ql == nil {
		return nil, fmt.Errorf("no QE identity TCB level matches QE ISVSVN %d", qe.GetIsvSvn())
	}
	ev.QE = string(ql.TcbStatus)
	for _, a := range ql.AdvisoryIDs {
		adv[a] = true
	}

	// Step 4: converge.
	ev.Status = converge(converge(ev.Platform, ev.Module), ev.QE)
	ev.Advisories = make([]string, 0, len(adv))
	for a := range adv {
		ev.Advisories = append(ev.Advisories, a)
	}
	sort.Strings(ev.Advisories)
	return ev, nil
}

// converge folds a component status (TDX module or QE) into the platform
// status, as Intel's QVL convergeTcbStatusWith{TdxModule,Qe}TcbStatus do.
func converge(platform, component string) string {
	switch {
	case platform == Revoked || component == Revoked:
		return Revoked
	case component == OutOfDate || component == OutOfDateConfigurationNeeded:
		switch platform {
		case UpToDate, SWHardeningNeeded:
			return OutOfDate
		case ConfigurationNeeded, ConfigurationAndSWHardeningNeeded:
			return OutOfDateConfigurationNeeded
		}
	}
	return platform
}

func sgxHigherOrEqual(cpuSvn []byte, comps []pcs.TcbComponent) bool {
	if len(cpuSvn) != len(comps) {
		return false
	}
	for i := range cpuSvn {
		if cpuSvn[i] < comps[i].Svn {
			return false
		}
	}
	return true
}

func tdxHigherOrEqual(svn []byte, comps []pcs.TcbComponent) bool {
	if len(svn) != len(comps) {
		return false
	}
	start := 0
	if svn[1] > 0 {
		start = 2
	}
	for i := start; i < len(svn); i++ {
		if svn[i] < comps[i].Svn {
			return false
		}
	}
	return true
}

func matchModule(signer, attrs, mask *pcs.HexBytes, body *Body, what string) error {
	if !bytes.Equal(signer.Bytes, body.MrSignerSeam) {
		return fmt.Errorf("MRSIGNERSEAM %s is not %s mrsigner %s", hex.EncodeToString(body.MrSignerSeam), what, hex.EncodeToString(signer.Bytes))
	}
	if len(mask.Bytes) != len(body.SeamAttributes) || len(attrs.Bytes) != len(body.SeamAttributes) {
		return fmt.Errorf("%s attributes/mask size does not match SEAMATTRIBUTES", what)
	}
	for i := range mask.Bytes {
		if body.SeamAttributes[i]&mask.Bytes[i] != attrs.Bytes[i] {
			return fmt.Errorf("SEAMATTRIBUTES %s do not match %s attributes %s under mask %s", hex.EncodeToString(body.SeamAttributes), what, hex.EncodeToString(attrs.Bytes), hex.EncodeToString(mask.Bytes))
		}
	}
	return nil
}

// matchQE compares the QE report with the QE identity (PCS API spec v4,
// "Get TDX QE Identity", steps 2a-2d).
func matchQE(id *pcs.EnclaveIdentity, qe *pb.EnclaveReport) error {
	if !bytes.Equal(id.Mrsigner.Bytes, qe.GetMrSigner()) {
		return fmt.Errorf("QE MRSIGNER %s is not the QE identity's %s", hex.EncodeToString(qe.GetMrSigner()), hex.EncodeToString(id.Mrsigner.Bytes))
	}
	if qe.GetIsvProdId() != uint32(id.IsvProdID) {
		return fmt.Errorf("QE ISVPRODID %d is not the QE identity's %d", qe.GetIsvProdId(), id.IsvProdID)
	}
	if len(id.MiscselectMask.Bytes) != 4 || len(id.Miscselect.Bytes) != 4 {
		return fmt.Errorf("QE identity miscselect fields are not 4 bytes")
	}
	mask := binary.LittleEndian.Uint32(id.MiscselectMask.Bytes)
	if qe.GetMiscSelect()&mask != binary.LittleEndian.Uint32(id.Miscselect.Bytes) {
		return fmt.Errorf("QE MISCSELECT 0x%08x does not match the QE identity under mask", qe.GetMiscSelect())
	}
	a := qe.GetAttributes()
	if len(id.AttributesMask.Bytes) != len(a) || len(id.Attributes.Bytes) != len(a) {
		return fmt.Errorf("QE identity attributes size does not match the QE report")
	}
	for i := range a {
		if a[i]&id.AttributesMask.Bytes[i] != id.Attributes.Bytes[i] {
			return fmt.Errorf("QE ATTRIBUTES %s do not match the QE identity under mask", hex.EncodeToString(a))
		}
	}
	return nil
}

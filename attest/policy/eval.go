package policy

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aster-cvm/aster/attest"
)

// applies lists the claims each evidence type has; a policy field for a
// claim the evidence lacks is skipped, so one policy can serve several
// platforms.
var applies = map[attest.Type]map[string]bool{
	attest.TypeTDX: {"mrtd": true, "rtmr0": true, "rtmr1": true, "rtmr2": true, "rtmr3": true,
		"mr_seam": true, "mr_config_id": true, "mr_owner": true, "mr_owner_config": true, "report_data": true},
	attest.TypeSNP: {"measurement": true, "host_data": true, "report_data": true},
	attest.TypeTPM: {},
}

// Checks reports whether p holds an expected measurement (a register,
// launch digest, HOST_DATA or PCR value) that evidence of type t carries,
// that is whether Evaluate would compare any measurement at all.
func (p *Policy) Checks(t attest.Type) bool {
	for n, want := range p.hexFields() {
		if len(want) > 0 && applies[t][n] {
			return true
		}
	}
	return t == attest.TypeTPM && len(p.PCRs) > 0
}

// Evaluate appends the policy's checks to r. Call it after the
// evidence verifier and before r.Finish.
func (p *Policy) Evaluate(r *attest.Result) {
	names := make([]string, 0, 16)
	fields := p.hexFields()
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := fields[n]
		if len(want) == 0 {
			continue
		}
		if !applies[r.Type][n] {
			r.Skip("policy."+n, fmt.Sprintf("does not apply to %s evidence", r.Type))
			continue
		}
		matchAny(r, "policy."+n, n, want)
	}

	if applies[r.Type]["report_data"] {
		for _, f := range []struct{ name, v string }{{"report_data", p.ReportData}, {"nonce", p.Nonce}} {
			if f.v == "" {
				continue
			}
			b, _ := hex.DecodeString(norm(f.v))
			padded := hex.EncodeToString(append(b, make([]byte, 64-len(b))...))
			matchAny(r, "policy."+f.name, "report_data", Values{padded})
		}
	}

	if len(p.PCRs) > 0 {
		keys := make([]string, 0, len(p.PCRs))
		for k := range p.PCRs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key, _ := pcrKey(k)
			name := "policy.pcr." + key
			if r.Type != attest.TypeTPM {
				r.Skip(name, fmt.Sprintf("does not apply to %s evidence", r.Type))
				continue
			}
			want, got := norm(p.PCRs[k]), r.PCRs[key]
			if got == "" {
				r.Add(attest.Check{Name: name, Status: attest.Fail, Field: key, Expected: want, Actual: "(not quoted)", Detail: "PCR not in the quote"})
			} else if got != want {
				r.Add(attest.Check{Name: name, Status: attest.Fail, Field: key, Expected: want, Actual: got, Detail: "PCR value differs"})
			} else {
				r.Pass(name, key+" matches")
			}
		}
	}

	if d, ok := r.Claims["debug"]; ok {
		switch {
		case d != "true":
			r.Pass("policy.debug", "not a debug guest")
		case p.AllowDebug:
			r.Skip("policy.debug", "debug guest accepted by allow_debug")
		default:
			r.Add(attest.Check{Name: "policy.debug", Status: attest.Fail, Field: "debug", Expected: "false", Actual: "true",
				Detail: "debug guest: the host can read its memory (set allow_debug to accept)"})
		}
	}

	p.evaluateTCB(r)
}

// matchAny checks claim against the accepted values.
func matchAny(r *attest.Result, name, claim string, want Values) {
	got := r.Claims[claim]
	for _, w := range want {
		if norm(w) == got {
			r.Pass(name, claim+" matches")
			return
		}
	}
	exp := make([]string, len(want))
	for i, w := range want {
		exp[i] = norm(w)
	}
	r.Add(attest.Check{Name: name, Status: attest.Fail, Field: claim, Expected: strings.Join(exp, " | "), Actual: got,
		Detail: claim + " differs from the expected value"})
}

func (p *Policy) evaluateTCB(r *attest.Result) {
	t := r.TCB
	if t == nil {
		return
	}
	if r.Type == attest.TypeTDX {
		allowed := p.TCBStatuses
		if len(allowed) == 0 {
			allowed = []string{"UpToDate"}
		}
		switch {
		case t.Status == "Unknown":
			r.Skip("policy.tcb_status", "TCB status not evaluated (no collateral)")
		case contains(allowed, t.Status):
			r.Pass("policy.tcb_status", t.Status+" is accepted")
		default:
			r.Add(attest.Check{Name: "policy.tcb_status", Status: attest.Fail, Field: "tcb.status",
				Expected: strings.Join(allowed, " | "), Actual: t.Status, Detail: "TCB status not accepted by the policy"})
		}
	}
	var denied, unlisted []string
	for _, a := range t.Advisories {
		if contains(p.DeniedAdvisories, a) {
			denied = append(denied, a)
		}
		if len(p.AllowedAdvisories) > 0 && !contains(p.AllowedAdvisories, a) {
			unlisted = append(unlisted, a)
		}
	}
	if len(p.DeniedAdvisories) > 0 || len(p.AllowedAdvisories) > 0 {
		switch {
		case len(denied) > 0:
			r.Add(attest.Check{Name: "policy.advisories", Status: attest.Fail, Field: "tcb.advisories",
				Actual: strings.Join(denied, ", "), Detail: "denied advisories present"})
		case len(unlisted) > 0:
			r.Add(attest.Check{Name: "policy.advisories", Status: attest.Fail, Field: "tcb.advisories",
				Expected: strings.Join(p.AllowedAdvisories, ", "), Actual: strings.Join(unlisted, ", "), Detail: "advisories outside the allowed list"})
		default:
			r.Pass("policy.advisories", fmt.Sprintf("%d advisories, all accepted", len(t.Advisories)))
		}
	}
	if p.MaxCollateralAge > 0 {
		max := time.Duration(p.MaxCollateralAge)
		if t.CollateralIssueDate == nil {
			r.Skip("policy.max_collateral_age", "no collateral")
		} else if age := r.At.Sub(*t.CollateralIssueDate); age > max {
			r.Add(attest.Check{Name: "policy.max_collateral_age", Status: attest.Fail, Field: "collateral_issue_date",
				Expected: "at most " + max.String() + " old", Actual: age.Round(time.Minute).String() + " old (issued " + t.CollateralIssueDate.Format(time.RFC3339) + ")",
				Detail: "collateral too old"})
		} else {
			r.Pass("policy.max_collateral_age", "collateral issued "+t.CollateralIssueDate.Format(time.RFC3339))
		}
	}
	if p.MinSNPTCB != nil {
		if t.SNP == nil {
			r.Skip("policy.min_snp_tcb", fmt.Sprintf("does not apply to %s evidence", r.Type))
		} else if ok, comp := t.SNP.Reported.AtLeast(*p.MinSNPTCB); ok {
			r.Pass("policy.min_snp_tcb", "reported TCB "+t.SNP.Reported.String()+" meets the minimum")
		} else {
			r.Add(attest.Check{Name: "policy.min_snp_tcb", Status: attest.Fail, Field: "reported_tcb." + comp,
				Expected: ">= " + p.MinSNPTCB.String(), Actual: t.SNP.Reported.String(), Detail: comp + " below the minimum"})
		}
	}
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

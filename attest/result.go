package attest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// ResultFormat identifies version 1 of the JSON document `astctl verify
// --json` prints. Fields are only ever added within a version.
const ResultFormat = "aster.verify-result/v1"

// Type is the kind of evidence a verifier handles.
type Type string

// Evidence types.
const (
	TypeTDX Type = "tdx"
	TypeSNP Type = "snp"
	TypeTPM Type = "tpm"
)

// Verdict is the overall outcome of a verification.
type Verdict string

// Verdicts. "verified" means every check passed or was skipped on purpose.
const (
	Verified Verdict = "verified"
	Failed   Verdict = "failed"
)

// Status is the outcome of one check.
type Status string

// Check statuses. A skipped check did not run (no input for it, or the
// user turned it off); it never makes the verdict fail.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Check is one step of a verification: a signature, a certificate chain, a
// collateral field, a policy comparison.
type Check struct {
	// Name is a stable identifier such as "pck_chain" or "policy.mrtd".
	Name string `json:"name"`
	// Status is pass, fail or skip.
	Status Status `json:"status"`
	// Field names the evidence field compared, for a mismatch.
	Field string `json:"field,omitempty"`
	// Expected and Actual are the compared values (lowercase hex for
	// binary fields) when the check compares values.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Detail explains the outcome for humans.
	Detail string `json:"detail,omitempty"`
}

// TCBParts is an SEV-SNP TCB_VERSION split into its security version
// numbers (AMD SEV-SNP ABI spec 56860, §2.2 "TCB_VERSION"). FMC is only
// present on Turin and later.
type TCBParts struct {
	Bootloader uint8 `json:"bootloader" yaml:"bootloader"`
	TEE        uint8 `json:"tee" yaml:"tee"`
	SNP        uint8 `json:"snp" yaml:"snp"`
	Microcode  uint8 `json:"microcode" yaml:"microcode"`
	FMC        uint8 `json:"fmc,omitempty" yaml:"fmc,omitempty"`
}

// String formats the parts like AMD's tools do.
func (p TCBParts) String() string {
	s := fmt.Sprintf("bl=%d tee=%d snp=%d ucode=%d", p.Bootloader, p.TEE, p.SNP, p.Microcode)
	if p.FMC != 0 {
		s += fmt.Sprintf(" fmc=%d", p.FMC)
	}
	return s
}

// AtLeast reports whether every component of p is >= the one in min, and
// names the first component that is not.
func (p TCBParts) AtLeast(min TCBParts) (bool, string) {
	for _, c := range []struct {
		name     string
		got, min uint8
	}{
		{"bootloader", p.Bootloader, min.Bootloader},
		{"tee", p.TEE, min.TEE},
		{"snp", p.SNP, min.SNP},
		{"microcode", p.Microcode, min.Microcode},
		{"fmc", p.FMC, min.FMC},
	} {
		if c.got < c.min {
			return false, c.name
		}
	}
	return true, ""
}

// SNPTCB holds the TCB versions an SEV-SNP report carries.
type SNPTCB struct {
	Reported  TCBParts `json:"reported"`
	Committed TCBParts `json:"committed"`
	Current   TCBParts `json:"current"`
	Launch    TCBParts `json:"launch"`
}

// TCB is the trusted-computing-base status of the platform that produced
// the evidence.
type TCB struct {
	// Status is the Intel TCB status (UpToDate, SWHardeningNeeded,
	// ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate,
	// OutOfDateConfigurationNeeded, Revoked) after converging the platform,
	// TDX-module and QE statuses; "Unknown" when no collateral was used;
	// empty for SNP, where AMD publishes no status and policy compares
	// TCB versions instead.
	Status string `json:"status,omitempty"`
	// Date is the tcbDate of the matching TCB level (RFC 3339).
	Date string `json:"date,omitempty"`
	// Advisories are the Intel-SA identifiers of every matched level.
	Advisories []string `json:"advisories"`
	// PlatformStatus, ModuleStatus and QEStatus are the statuses before
	// convergence, for diagnosis.
	PlatformStatus string `json:"platform_status,omitempty"`
	ModuleStatus   string `json:"tdx_module_status,omitempty"`
	QEStatus       string `json:"qe_status,omitempty"`
	// CollateralIssueDate is the oldest issueDate of the collateral used;
	// CollateralNextUpdate the earliest nextUpdate.
	CollateralIssueDate  *time.Time `json:"collateral_issue_date,omitempty"`
	CollateralNextUpdate *time.Time `json:"collateral_next_update,omitempty"`
	// SNP holds the SEV-SNP TCB versions.
	SNP *SNPTCB `json:"snp,omitempty"`
}

// Result is the outcome of verifying one piece of evidence.
type Result struct {
	// Format is ResultFormat.
	Format string `json:"format"`
	// Verdict is Verified or Failed.
	Verdict Verdict `json:"verdict"`
	// Type is the evidence type.
	Type Type `json:"evidence_type"`
	// Version describes the evidence format, e.g. "quote v4".
	Version string `json:"evidence_version,omitempty"`
	// At is the verification time.
	At time.Time `json:"verified_at"`
	// TCB is the platform TCB status, when the evidence has one.
	TCB *TCB `json:"tcb,omitempty"`
	// Claims are the values read from the evidence, keyed by the names
	// docs/verify.md lists (mrtd, rtmr0, measurement, report_data, ...).
	Claims map[string]string `json:"claims"`
	// PCRs maps "sha256:N" to a quoted PCR value (vTPM evidence).
	PCRs map[string]string `json:"pcrs,omitempty"`
	// Checks lists every step in the order it ran.
	Checks []Check `json:"checks"`
}

// NewResult starts a result for evidence of type t verified at at.
func NewResult(t Type, at time.Time) *Result {
	return &Result{Format: ResultFormat, Type: t, At: at.UTC(), Claims: map[string]string{}}
}

// Add records a check.
func (r *Result) Add(c Check) { r.Checks = append(r.Checks, c) }

// Pass records a passing check.
func (r *Result) Pass(name, detail string) { r.Add(Check{Name: name, Status: Pass, Detail: detail}) }

// Fail records a failing check.
func (r *Result) Fail(name, detail string) { r.Add(Check{Name: name, Status: Fail, Detail: detail}) }

// Skip records a check that did not run, and why.
func (r *Result) Skip(name, detail string) { r.Add(Check{Name: name, Status: Skip, Detail: detail}) }

// Check records name as passing when err is nil and failing otherwise,
// and reports whether it passed.
func (r *Result) Check(name string, err error, okDetail string) bool {
	if err != nil {
		r.Fail(name, err.Error())
		return false
	}
	r.Pass(name, okDetail)
	return true
}

// Failed reports whether any check failed so far.
func (r *Result) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Finish sets the verdict from the checks.
func (r *Result) Finish() {
	r.Verdict = Verified
	if r.Failed() || len(r.Checks) == 0 {
		r.Verdict = Failed
	}
}

// WriteText prints the human report: the verdict first, then each check,
// with field, expected and actual values for a mismatch.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s: %s evidence", strings.ToUpper(string(r.Verdict)), r.Type)
	if r.Version != "" {
		fmt.Fprintf(w, " (%s)", r.Version)
	}
	fmt.Fprintf(w, " at %s\n", r.At.Format(time.RFC3339))
	if t := r.TCB; t != nil {
		if t.Status != "" {
			fmt.Fprintf(w, "TCB status: %s", t.Status)
			if t.Date != "" {
				fmt.Fprintf(w, " (tcbDate %s)", t.Date)
			}
			fmt.Fprintln(w)
		}
		if len(t.Advisories) > 0 {
			fmt.Fprintf(w, "Advisories: %s\n", strings.Join(t.Advisories, ", "))
		}
		if t.SNP != nil {
			fmt.Fprintf(w, "Reported TCB: %s\n", t.SNP.Reported)
		}
	}
	fmt.Fprintln(w, "Checks:")
	for _, c := range r.Checks {
		mark := map[Status]string{Pass: "ok  ", Fail: "FAIL", Skip: "skip"}[c.Status]
		fmt.Fprintf(w, "  [%s] %s", mark, c.Name)
		if c.Detail != "" {
			fmt.Fprintf(w, ": %s", c.Detail)
		}
		fmt.Fprintln(w)
		if c.Status == Fail && (c.Expected != "" || c.Actual != "") {
			if c.Field != "" {
				fmt.Fprintf(w, "         field:    %s\n", c.Field)
			}
			fmt.Fprintf(w, "         expected: %s\n", c.Expected)
			fmt.Fprintf(w, "         actual:   %s\n", c.Actual)
		}
	}
	if len(r.Claims) > 0 {
		fmt.Fprintln(w, "Claims:")
		keys := make([]string, 0, len(r.Claims))
		for k := range r.Claims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-18s %s\n", k, r.Claims[k])
		}
	}
}

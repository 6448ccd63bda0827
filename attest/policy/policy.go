// Package policy defines the verification policy of `astctl verify
// --policy` (YAML or JSON) and evaluates it against a verification
// result. Every field is optional; an empty policy still rejects debug
// guests and every TCB status but UpToDate, because those are the safe
// defaults (see confidential-dot-ai/attestation-go#23 for what lax
// defaults cost).
package policy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/reference"
)

// Format identifies version 1 of the policy document.
const Format = "aster.verify-policy/v1"

// Values is one expected value or a list of accepted values (any of).
// In YAML and JSON it is written as a string or a list of strings.
type Values []string

// UnmarshalJSON accepts a string or a list of strings.
func (v *Values) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Values{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*v = l
	return nil
}

// UnmarshalYAML accepts a scalar or a sequence.
func (v *Values) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*v = Values{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*v = l
	return nil
}

// Duration is a time.Duration written as "720h" or "30d".
type Duration time.Duration

func parseDuration(s string) (Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q (want e.g. 720h or 30d)", s)
	}
	return Duration(d), nil
}

// ParseDuration parses "720h" or "30d".
func ParseDuration(s string) (Duration, error) { return parseDuration(s) }

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := parseDuration(s)
	*d = v
	return err
}

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	*d = v
	return err
}

// MarshalJSON writes the duration as Go prints it.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Policy is what the evidence must satisfy beyond being genuine.
// Measurement fields hold lowercase or uppercase hex; a list means any
// of the values is accepted.
type Policy struct {
	// Format is Format; optional.
	Format string `json:"format,omitempty" yaml:"format,omitempty"`

	// TDX registers.
	MRTD          Values `json:"mrtd,omitempty" yaml:"mrtd,omitempty"`
	RTMR0         Values `json:"rtmr0,omitempty" yaml:"rtmr0,omitempty"`
	RTMR1         Values `json:"rtmr1,omitempty" yaml:"rtmr1,omitempty"`
	RTMR2         Values `json:"rtmr2,omitempty" yaml:"rtmr2,omitempty"`
	RTMR3         Values `json:"rtmr3,omitempty" yaml:"rtmr3,omitempty"`
	MRSeam        Values `json:"mr_seam,omitempty" yaml:"mr_seam,omitempty"`
	MRConfigID    Values `json:"mr_config_id,omitempty" yaml:"mr_config_id,omitempty"`
	MROwner       Values `json:"mr_owner,omitempty" yaml:"mr_owner,omitempty"`
	MROwnerConfig Values `json:"mr_owner_config,omitempty" yaml:"mr_owner_config,omitempty"`

	// SNPMeasurement is the SEV-SNP launch digest (report MEASUREMENT).
	SNPMeasurement Values `json:"snp_measurement,omitempty" yaml:"snp_measurement,omitempty"`
	// HostData is the SEV-SNP HOST_DATA.
	HostData Values `json:"host_data,omitempty" yaml:"host_data,omitempty"`
	// MinSNPTCB is the lowest acceptable REPORTED_TCB, per component.
	MinSNPTCB *attest.TCBParts `json:"min_snp_tcb,omitempty" yaml:"min_snp_tcb,omitempty"`

	// ReportData is the expected REPORT_DATA (TDX, SNP), hex, padded
	// with zeros to 64 bytes.
	ReportData string `json:"report_data,omitempty" yaml:"report_data,omitempty"`
	// Nonce is a freshness value: for TDX and SNP it is compared like
	// ReportData; for vTPM it must be the quotes' extraData.
	Nonce string `json:"nonce,omitempty" yaml:"nonce,omitempty"`
	// PCRs maps "sha256:N" to the expected PCR value (vTPM).
	PCRs map[string]string `json:"pcrs,omitempty" yaml:"pcrs,omitempty"`

	// AllowDebug accepts debug TDs (TD_ATTRIBUTES.DEBUG) and SNP guests
	// whose policy allows debugging. Off by default.
	AllowDebug bool `json:"allow_debug,omitempty" yaml:"allow_debug,omitempty"`
	// TCBStatuses are the accepted Intel TCB statuses; empty means
	// UpToDate only.
	TCBStatuses []string `json:"tcb_statuses,omitempty" yaml:"tcb_statuses,omitempty"`
	// AllowedAdvisories, when set, lists the only Intel-SA advisories
	// the matched TCB levels may carry.
	AllowedAdvisories []string `json:"allowed_advisories,omitempty" yaml:"allowed_advisories,omitempty"`
	// DeniedAdvisories are advisories that must not be present.
	DeniedAdvisories []string `json:"denied_advisories,omitempty" yaml:"denied_advisories,omitempty"`
	// MaxCollateralAge bounds how old (since issueDate) the TCB info
	// and QE identity may be at the verification time.
	MaxCollateralAge Duration `json:"max_collateral_age,omitempty" yaml:"max_collateral_age,omitempty"`
}

// Parse reads a policy in JSON or YAML. Unknown fields are errors: a
// misspelt field in a security policy must not silently check nothing.
func Parse(b []byte) (*Policy, error) {
	p := &Policy{}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		d := json.NewDecoder(bytes.NewReader(t))
		d.DisallowUnknownFields()
		if err := d.Decode(p); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
	} else {
		d := yaml.NewDecoder(bytes.NewReader(b))
		d.KnownFields(true)
		if err := d.Decode(p); err != nil && err.Error() != "EOF" {
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	if p.Format != "" && p.Format != Format {
		return nil, fmt.Errorf("policy: unsupported format %q (want %q)", p.Format, Format)
	}
	return p, p.validate()
}

// validate checks hex fields and statuses up front, so a bad policy is
// unusable input (exit 2) rather than a mismatch (exit 1).
func (p *Policy) validate() error {
	for name, vs := range p.hexFields() {
		for _, v := range vs {
			b, err := hex.DecodeString(norm(v))
			if err != nil {
				return fmt.Errorf("policy %s: %q is not hex", name, v)
			}
			if n := fieldSize[name]; len(b) != n {
				return fmt.Errorf("policy %s: %q is %d bytes, want %d (%d hex digits)", name, v, len(b), n, 2*n)
			}
		}
	}
	for _, s := range []string{p.ReportData, p.Nonce} {
		if b, err := hex.DecodeString(norm(s)); err != nil || len(b) > 64 {
			return fmt.Errorf("policy report_data/nonce: %q is not hex of at most 64 bytes", s)
		}
	}
	for k, v := range p.PCRs {
		if _, err := pcrKey(k); err != nil {
			return err
		}
		b, err := hex.DecodeString(norm(v))
		if err != nil {
			return fmt.Errorf("policy pcrs[%s]: %q is not hex", k, v)
		}
		key, _ := pcrKey(k)
		if n := pcrSize[strings.Split(key, ":")[0]]; len(b) != n {
			return fmt.Errorf("policy pcrs[%s]: %q is %d bytes, want %d (%d hex digits)", k, v, len(b), n, 2*n)
		}
	}
	for _, s := range p.TCBStatuses {
		if !validStatus(s) {
			return fmt.Errorf("policy tcb_statuses: unknown status %q", s)
		}
	}
	return nil
}

var statuses = []string{"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded", "Revoked"}

func validStatus(s string) bool {
	for _, v := range statuses {
		if v == s {
			return true
		}
	}
	return false
}

// pcrKey normalises "sha256:7" (also "SHA256:7").
func pcrKey(k string) (string, error) {
	alg, idx, ok := strings.Cut(strings.ToLower(k), ":")
	n, err := strconv.Atoi(idx)
	if !ok || err != nil || n < 0 || n > 23 || (alg != "sha1" && alg != "sha256" && alg != "sha384" && alg != "sha512") {
		return "", fmt.Errorf("policy pcrs: key %q is not BANK:INDEX (e.g. sha256:7)", k)
	}
	return fmt.Sprintf("%s:%d", alg, n), nil
}

// norm lowercases hex and drops a 0x prefix.
func norm(s string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
}

// fieldSize is the size in bytes of each measurement field: SHA-384
// registers for TDX (TDX module ABI, TDREPORT) and the SNP launch digest
// (SEV-SNP ABI 56860, MEASUREMENT), 32 bytes of SNP HOST_DATA. A value of
// another length can never match, so it is a policy error (exit 2), not a
// mismatch.
var fieldSize = map[string]int{
	"mrtd": 48, "rtmr0": 48, "rtmr1": 48, "rtmr2": 48, "rtmr3": 48, "mr_seam": 48, "mr_config_id": 48,
	"mr_owner": 48, "mr_owner_config": 48, "measurement": 48, "host_data": 32,
}

// pcrSize is the digest size of each PCR bank.
var pcrSize = map[string]int{"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

// hexFields maps claim names to the policy's expected values.
func (p *Policy) hexFields() map[string]Values {
	return map[string]Values{
		"mrtd": p.MRTD, "rtmr0": p.RTMR0, "rtmr1": p.RTMR1, "rtmr2": p.RTMR2, "rtmr3": p.RTMR3,
		"mr_seam": p.MRSeam, "mr_config_id": p.MRConfigID, "mr_owner": p.MROwner,
		"mr_owner_config": p.MROwnerConfig, "measurement": p.SNPMeasurement, "host_data": p.HostData,
	}
}

// Override copies every field set in o over p: flags override the
// policy file, which overrides the reference document.
func (p *Policy) Override(o *Policy) {
	for _, f := range []struct{ dst, src *Values }{
		{&p.MRTD, &o.MRTD}, {&p.RTMR0, &o.RTMR0}, {&p.RTMR1, &o.RTMR1}, {&p.RTMR2, &o.RTMR2},
		{&p.RTMR3, &o.RTMR3}, {&p.MRSeam, &o.MRSeam}, {&p.MRConfigID, &o.MRConfigID},
		{&p.MROwner, &o.MROwner}, {&p.MROwnerConfig, &o.MROwnerConfig},
		{&p.SNPMeasurement, &o.SNPMeasurement}, {&p.HostData, &o.HostData},
	} {
		if len(*f.src) > 0 {
			*f.dst = *f.src
		}
	}
	if o.MinSNPTCB != nil {
		p.MinSNPTCB = o.MinSNPTCB
	}
	if o.ReportData != "" {
		p.ReportData = o.ReportData
	}
	if o.Nonce != "" {
		p.Nonce = o.Nonce
	}
	for k, v := range o.PCRs {
		if p.PCRs == nil {
			p.PCRs = map[string]string{}
		}
		p.PCRs[k] = v
	}
	p.AllowDebug = p.AllowDebug || o.AllowDebug
	if len(o.TCBStatuses) > 0 {
		p.TCBStatuses = o.TCBStatuses
	}
	if len(o.AllowedAdvisories) > 0 {
		p.AllowedAdvisories = o.AllowedAdvisories
	}
	p.DeniedAdvisories = append(p.DeniedAdvisories, o.DeniedAdvisories...)
	if o.MaxCollateralAge != 0 {
		p.MaxCollateralAge = o.MaxCollateralAge
	}
}

// FromReference turns a reference-values document into a policy that
// expects its measurements. It fails when the document is for another
// platform than the evidence.
func FromReference(d *reference.Document, t attest.Type) (*Policy, error) {
	if string(t) != d.Platform {
		return nil, fmt.Errorf("reference values are for %q evidence, the evidence is %q", d.Platform, t)
	}
	m := d.Measurements
	one := func(s string) Values {
		if s == "" {
			return nil
		}
		return Values{s}
	}
	p := &Policy{MRTD: one(m.MRTD), RTMR0: one(m.RTMR0), RTMR1: one(m.RTMR1), RTMR2: one(m.RTMR2),
		RTMR3: one(m.RTMR3), SNPMeasurement: one(m.SNPMeasurement)}
	if len(m.PCRs) > 0 {
		p.PCRs = map[string]string{}
		for k, v := range m.PCRs {
			p.PCRs[k] = v
		}
	}
	return p, p.validate()
}

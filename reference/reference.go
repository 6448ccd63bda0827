// Package reference defines the reference-values document: the launch
// measurements of a guest that `astctl measure --json` (and `astctl build
// --tdx/--snp`) write and `astctl verify --reference` checks evidence
// against, together with every input that determined them, so a mismatch
// can be traced to the input that caused it.
//
// The format is versioned by the Format field. Readers reject unknown
// major versions; minor additions are new optional fields.
package reference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// FormatV1 identifies version 1 of the document.
const FormatV1 = "aster.reference-values/v1"

// Document is one reference-values document.
type Document struct {
	// Format is FormatV1.
	Format string `json:"format"`
	// Platform is "tdx" or "snp".
	Platform string `json:"platform"`
	// Tool names the program that computed the values.
	Tool Tool `json:"tool"`
	// Measurements are the expected values, lowercase hex.
	Measurements Measurements `json:"measurements"`
	// Inputs records every input that determined the measurements:
	// file hashes, flags, firmware metadata. Free-form but stable keys.
	Inputs map[string]any `json:"inputs,omitempty"`
	// Events is the expected event log (TDX RTMRs), in replay order.
	Events []Event `json:"events,omitempty"`
}

// Tool names the program that wrote a document.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Measurements holds expected measurement registers as lowercase hex.
// Empty fields are not checked.
type Measurements struct {
	MRTD  string `json:"mrtd,omitempty"`
	RTMR0 string `json:"rtmr0,omitempty"`
	RTMR1 string `json:"rtmr1,omitempty"`
	RTMR2 string `json:"rtmr2,omitempty"`
	RTMR3 string `json:"rtmr3,omitempty"`
	// SNPMeasurement is the SEV-SNP launch digest (report MEASUREMENT).
	SNPMeasurement string `json:"snp_measurement,omitempty"`
	// PCRs maps "sha256:N" (bank:index) to a PCR value.
	PCRs map[string]string `json:"pcrs,omitempty"`
}

// Event is one expected event of a measured-boot event log.
type Event struct {
	// Register is the RTMR (0-3) or PCR index the event extends.
	Register int `json:"register"`
	// RegisterKind is "rtmr" or "pcr".
	RegisterKind string `json:"register_kind"`
	// Type is the TCG event type name, e.g. "EV_EFI_BOOT_SERVICES_APPLICATION".
	Type string `json:"type"`
	// Digest is the extended digest, lowercase hex.
	Digest string `json:"digest"`
	// Description says what was measured, for humans.
	Description string `json:"description,omitempty"`
}

// Read parses and validates a reference-values document from path.
func Read(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses and validates a reference-values document. Unknown fields
// and a document with neither measurements nor events are errors: a
// misspelt field in a reference document must not silently check nothing.
func Parse(b []byte) (*Document, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("reference values: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("reference values: data after the JSON document")
	}
	if d.Format != FormatV1 {
		return nil, fmt.Errorf("reference values: unsupported format %q (want %q)", d.Format, FormatV1)
	}
	if d.Platform != "tdx" && d.Platform != "snp" && d.Platform != "tpm" {
		return nil, fmt.Errorf("reference values: unknown platform %q", d.Platform)
	}
	if d.Measurements.Empty() && len(d.Events) == 0 {
		return nil, fmt.Errorf("reference values: no measurements and no events: the document would check nothing")
	}
	return &d, nil
}

// Empty reports whether m holds no expected value.
func (m *Measurements) Empty() bool {
	return m.MRTD == "" && m.RTMR0 == "" && m.RTMR1 == "" && m.RTMR2 == "" && m.RTMR3 == "" &&
		m.SNPMeasurement == "" && len(m.PCRs) == 0
}

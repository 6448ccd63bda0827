package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/ovmf"
	"github.com/aster-cvm/aster/reference"
)

var measureCmd = &cobra.Command{
	Use:   "measure",
	Short: "Precompute TDX and SEV-SNP launch measurements, replay event logs",
	Long: `astctl measure precomputes the launch measurements a confidential VM will
report, so that they can be checked in attestation:

  astctl measure snp       SEV-SNP launch digest (and SEV / SEV-ES digests)
  astctl measure tdx       TDX MRTD and RTMR0-2 for OVMF direct boot
  astctl measure eventlog  replay a CCEL or TCG event log, diff it against
                           an expected log

With --json, snp and tdx write the reference-values document that
'astctl verify --reference' reads: the measurements and every input that
determined them. See docs/measure.md.

Exit codes:
  0  success
  1  check failed (eventlog --diff: the logs differ)
  2  unusable input (unreadable or malformed files, firmware lacking a
     needed section, bad flags)`,
}

func init() {
	rootCmd.AddCommand(measureCmd)
}

// toolVersion names the astctl build in the documents it writes
// (reference values, build manifests); see versionOf.
func toolVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	return versionOf(bi)
}

// versionOf is the module version astctl was installed at (go install
// …@v1.2.3, a pseudo-version names the commit), else the VCS revision the
// toolchain stamped when building from a checkout (vcs.revision, with
// "-dirty" when vcs.modified: the tree had uncommitted changes), else
// "(devel)" (go run, go test, no VCS information).
func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return rev
}

// newReference starts a reference-values document for platform.
func newReference(platform string) *reference.Document {
	return &reference.Document{
		Format:   reference.FormatV1,
		Platform: platform,
		Tool:     reference.Tool{Name: "astctl measure " + platform, Version: toolVersion()},
		Inputs:   map[string]any{},
	}
}

// fileRecord describes an input file in a reference-values document.
func fileRecord(path string, data []byte) map[string]any {
	s256 := sha256.Sum256(data)
	s384 := sha512.Sum384(data)
	return map[string]any{
		"path":   path,
		"size":   len(data),
		"sha256": hex.EncodeToString(s256[:]),
		"sha384": hex.EncodeToString(s384[:]),
	}
}

// readFirmware reads and parses an OVMF image.
func readFirmware(path string) (*ovmf.Image, error) {
	if path == "" {
		return nil, badInput(fmt.Errorf("--ovmf is required"))
	}
	b, err := readInput("ovmf", path)
	if err != nil {
		return nil, err
	}
	im, err := ovmf.Parse(b)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", path, err))
	}
	return im, nil
}

// hexOrBase64 formats a digest as --output-format asks.
func hexOrBase64(d []byte, format string) (string, error) {
	switch format {
	case "hex", "":
		return hex.EncodeToString(d), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(d), nil
	}
	return "", badInput(fmt.Errorf("--output-format %q: want hex or base64", format))
}

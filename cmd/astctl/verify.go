package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-sev-guest/verify/trust"
	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/collateral"
	"github.com/aster-cvm/aster/attest/policy"
	"github.com/aster-cvm/aster/attest/snp"
	"github.com/aster-cvm/aster/attest/tdx"
	"github.com/aster-cvm/aster/attest/tpm"
	"github.com/aster-cvm/aster/reference"
)

// verifyFlags holds the flags of astctl verify.
var verifyFlags struct {
	typ, at, policyFile, referenceFile string
	offline, json                      bool
	cacheDir                           string
	// TDX
	collateralFile, pcsURL, ccel string
	trustedRoots                 []string
	noCollateral                 bool
	// SNP
	certs   []string
	product string
	// vTPM
	tpmRoots  []string
	nonce     string
	allowSHA1 bool
	// policy
	mrtd, rtmr0, rtmr1, rtmr2, rtmr3, measurement, hostData []string
	reportData, minSNPTCB, maxCollateralAge                 string
	pcrs, tcbStatuses, allowAdvisories, denyAdvisories      []string
	allowDebug                                              bool
}

var verifyCmd = &cobra.Command{
	Use:   "verify EVIDENCE [flags]",
	Short: "Verify a TDX quote, SEV-SNP report or vTPM attestation against a policy",
	Long: `Verify attestation evidence offline and check it against reference values and a policy.

EVIDENCE is a TDX quote v4/v5 (binary or hex text), an SEV-SNP attestation report
(0x4A0 bytes, optionally followed by the extended report's certificate table) or a
go-tpm-tools attest.Attestation (binary or JSON protobuf). The type is detected;
--type overrides.

TDX: the PCK chain must reach Intel's SGX Root CA (embedded; --trusted-root
overrides); collateral (TCB info, QE identity, CRLs) comes from --collateral (the
QuoteCollateralV3 JSON of Intel QVL / dcap-qvl) or from Intel PCS or --pcs-url, cached
on disk. The TCB status is evaluated with Intel's algorithm and must be one the
policy accepts (default UpToDate). --ccel replays a CC event log to RTMR0-3.

SNP: the VCEK/VLEK must chain to the AMD ARK of the product (embedded); certificates
come from --certs, from the report's certificate table, or from AMD KDS (cached).

vTPM: the AK certificate must chain to --tpm-roots; every quote must carry --nonce;
the event log must replay to the quoted PCRs.

Policy: --policy FILE (YAML or JSON), --reference FILE (the document astctl measure
--json writes) and the flags below; flags override the policy file, which overrides
the reference. Debug guests and TCB statuses other than UpToDate are rejected unless
allowed. See docs/verify.md.

Exit codes:
  0  evidence verified and policy satisfied
  1  evidence invalid or policy violated
  2  unusable input (unreadable or malformed files, bad flags)`,
	Example: `  # CI: verify a TDX quote offline against a policy at a fixed time
  astctl verify quote.bin --collateral collateral.json --policy policy.yaml \
      --offline --at 2025-06-20T00:00:00Z

  # SEV-SNP report with its VCEK, expecting a launch measurement
  astctl verify report.bin --certs vcek.der --product Milan \
      --measurement b07af962...e4872b01 --json

  # vTPM attestation with a nonce and PCR 7
  astctl verify attestation.pb --tpm-roots ca-certs/ --nonce 9009 --pcr sha256:7=3365d7fa...`,
	Args: cobra.ExactArgs(1),
	RunE: runVerify,
}

func init() {
	f := verifyCmd.Flags()
	v := &verifyFlags
	f.StringVar(&v.typ, "type", "", "evidence type: tdx, snp or tpm (default: detected)")
	f.StringVar(&v.at, "at", "", "verification time, RFC 3339 (default: now)")
	f.BoolVar(&v.offline, "offline", false, "forbid all network access (cached collateral only)")
	f.BoolVar(&v.json, "json", false, "print the result as JSON (format aster.verify-result/v1)")
	f.StringVar(&v.policyFile, "policy", "", "policy file, YAML or JSON")
	f.StringVar(&v.referenceFile, "reference", "", "reference-values document written by astctl measure --json")
	f.StringVar(&v.cacheDir, "cache-dir", collateral.DefaultCacheDir(), "collateral cache directory (empty: no cache)")

	f.StringVar(&v.collateralFile, "collateral", "", "TDX: offline collateral, QuoteCollateralV3 JSON")
	f.StringVar(&v.pcsURL, "pcs-url", "", "TDX: Intel PCS or PCCS base URL (default "+tdx.DefaultPCSURL+")")
	f.StringArrayVar(&v.trustedRoots, "trusted-root", nil, "TDX: trusted root CA PEM (replaces Intel's); SNP: ASK/ARK bundle PEM (replaces AMD's)")
	f.BoolVar(&v.noCollateral, "no-collateral", false, "TDX: accept verification without collateral (TCB status Unknown)")
	f.StringVar(&v.ccel, "ccel", "", "TDX: CC event log (CCEL) to replay against RTMR0-3")

	f.StringArrayVar(&v.certs, "certs", nil, "SNP: VCEK/VLEK/ASK/ARK certificates or CRL, files or directories (repeatable)")
	f.StringVar(&v.product, "product", "", "SNP: product (Milan, Genoa, Turin, or with stepping: Milan-B0) for v2 reports")

	f.StringArrayVar(&v.tpmRoots, "tpm-roots", nil, "vTPM: trusted AK/EK CA certificates, files or directories (repeatable)")
	f.StringVar(&v.nonce, "nonce", "", "nonce, hex: vTPM quote extraData; TDX/SNP report_data (zero-padded)")
	f.BoolVar(&v.allowSHA1, "allow-sha1", false, "vTPM: accept SHA-1 PCR banks")

	f.StringArrayVar(&v.mrtd, "mrtd", nil, "expected TDX MRTD, hex (repeatable: any of)")
	f.StringArrayVar(&v.rtmr0, "rtmr0", nil, "expected TDX RTMR0, hex (repeatable: any of)")
	f.StringArrayVar(&v.rtmr1, "rtmr1", nil, "expected TDX RTMR1, hex (repeatable: any of)")
	f.StringArrayVar(&v.rtmr2, "rtmr2", nil, "expected TDX RTMR2, hex (repeatable: any of)")
	f.StringArrayVar(&v.rtmr3, "rtmr3", nil, "expected TDX RTMR3, hex (repeatable: any of)")
	f.StringArrayVar(&v.measurement, "measurement", nil, "expected SEV-SNP launch measurement, hex (repeatable: any of)")
	f.StringArrayVar(&v.hostData, "host-data", nil, "expected SEV-SNP HOST_DATA, hex (repeatable: any of)")
	f.StringVar(&v.reportData, "report-data", "", "expected REPORT_DATA, hex, zero-padded to 64 bytes")
	f.StringArrayVar(&v.pcrs, "pcr", nil, "expected vTPM PCR, BANK:INDEX=HEX, e.g. sha256:7=ab.. (repeatable)")
	f.BoolVar(&v.allowDebug, "allow-debug", false, "accept debug TDs and SNP guests with the debug policy bit")
	f.StringArrayVar(&v.tcbStatuses, "tcb-status", nil, "accepted TDX TCB status (repeatable; default UpToDate)")
	f.StringArrayVar(&v.allowAdvisories, "allow-advisory", nil, "the only Intel-SA advisories accepted (repeatable)")
	f.StringArrayVar(&v.denyAdvisories, "deny-advisory", nil, "Intel-SA advisory to reject (repeatable)")
	f.StringVar(&v.minSNPTCB, "min-snp-tcb", "", "minimum SNP reported TCB, e.g. bl=3,tee=0,snp=8,ucode=115[,fmc=N]")
	f.StringVar(&v.maxCollateralAge, "max-collateral-age", "", "maximum age of TDX collateral at --at, e.g. 720h or 30d")
	rootCmd.AddCommand(verifyCmd)
}

func runVerify(cmd *cobra.Command, args []string) error {
	v := &verifyFlags
	at := time.Now().UTC()
	if v.at != "" {
		t, err := time.Parse(time.RFC3339, v.at)
		if err != nil {
			return badInput(fmt.Errorf("--at: %w", err))
		}
		at = t
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return badInput(err)
	}
	typ, evidence, err := detectType(raw, v.typ)
	if err != nil {
		return badInput(err)
	}
	ref, err := readReference(typ)
	if err != nil {
		return badInput(err)
	}
	pol, err := buildPolicy(typ, ref)
	if err != nil {
		return badInput(err)
	}
	fetcher := &collateral.Fetcher{CacheDir: v.cacheDir, Offline: v.offline}

	ctx := context.Background()
	var res *attest.Result
	switch typ {
	case attest.TypeTDX:
		res, err = verifyTDX(ctx, evidence, at, fetcher, ref)
	case attest.TypeSNP:
		res, err = verifySNP(ctx, evidence, at, fetcher)
	case attest.TypeTPM:
		res, err = verifyTPM(evidence, at)
	}
	if err != nil {
		return badInput(err)
	}
	pol.Evaluate(res)
	res.Finish()

	out := cmd.OutOrStdout()
	if v.json {
		if err := writeJSON(out, res); err != nil {
			return failed(err)
		}
	} else {
		res.WriteText(out)
	}
	if res.Verdict != attest.Verified {
		return exitWith(exitFailed)
	}
	return nil
}

// detectType applies --type or detects the evidence type.
func detectType(raw []byte, forced string) (attest.Type, []byte, error) {
	switch forced {
	case "":
		return attest.Detect(raw)
	case "tdx", "snp":
		return attest.Type(forced), attest.DecodeText(raw), nil
	case "tpm":
		return attest.TypeTPM, raw, nil
	}
	return "", nil, fmt.Errorf("--type %q: want tdx, snp or tpm", forced)
}

// readReference reads the --reference document, if any.
func readReference(typ attest.Type) (*reference.Document, error) {
	if verifyFlags.referenceFile == "" {
		return nil, nil
	}
	d, err := reference.Read(verifyFlags.referenceFile)
	if err != nil {
		return nil, fmt.Errorf("--reference: %w", err)
	}
	return d, nil
}

// buildPolicy layers the reference document (nil if none), the policy
// file and the flags, in that order.
func buildPolicy(typ attest.Type, ref *reference.Document) (*policy.Policy, error) {
	v := &verifyFlags
	p := &policy.Policy{}
	if ref != nil {
		var err error
		if p, err = policy.FromReference(ref, typ); err != nil {
			return nil, fmt.Errorf("--reference: %w", err)
		}
		if !p.Checks(typ) && !(typ == attest.TypeTDX && v.ccel != "" && hasRTMREvents(ref)) {
			return nil, fmt.Errorf("--reference %s: no value in it applies to %s evidence, so it would check nothing", v.referenceFile, typ)
		}
	}
	if v.policyFile != "" {
		b, err := os.ReadFile(v.policyFile)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		fp, err := policy.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("--policy %s: %w", v.policyFile, err)
		}
		p.Override(fp)
	}
	fl := &policy.Policy{MRTD: v.mrtd, RTMR0: v.rtmr0, RTMR1: v.rtmr1, RTMR2: v.rtmr2, RTMR3: v.rtmr3,
		SNPMeasurement: v.measurement, HostData: v.hostData, ReportData: v.reportData,
		AllowDebug: v.allowDebug, TCBStatuses: v.tcbStatuses, AllowedAdvisories: v.allowAdvisories,
		DeniedAdvisories: v.denyAdvisories}
	if typ != attest.TypeTPM {
		fl.Nonce = v.nonce
	}
	for _, kv := range v.pcrs {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--pcr %q: want BANK:INDEX=HEX", kv)
		}
		if fl.PCRs == nil {
			fl.PCRs = map[string]string{}
		}
		fl.PCRs[k] = val
	}
	if v.minSNPTCB != "" {
		t, err := parseTCBParts(v.minSNPTCB)
		if err != nil {
			return nil, err
		}
		fl.MinSNPTCB = t
	}
	if v.maxCollateralAge != "" {
		d, err := policy.ParseDuration(v.maxCollateralAge)
		if err != nil {
			return nil, fmt.Errorf("--max-collateral-age: %w", err)
		}
		fl.MaxCollateralAge = d
	}
	// Round-trip the flags through the policy validator.
	b, err := json.Marshal(fl)
	if err != nil {
		return nil, err
	}
	if _, err := policy.Parse(b); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	p.Override(fl)
	return p, nil
}

// parseTCBParts parses "bl=3,tee=0,snp=8,ucode=115[,fmc=1]".
func parseTCBParts(s string) (*attest.TCBParts, error) {
	t := &attest.TCBParts{}
	for _, kv := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.ParseUint(val, 10, 8)
		if !ok || err != nil {
			return nil, fmt.Errorf("--min-snp-tcb %q: want bl=N,tee=N,snp=N,ucode=N[,fmc=N]", s)
		}
		switch k {
		case "bl", "bootloader":
			t.Bootloader = uint8(n)
		case "tee":
			t.TEE = uint8(n)
		case "snp":
			t.SNP = uint8(n)
		case "ucode", "microcode":
			t.Microcode = uint8(n)
		case "fmc":
			t.FMC = uint8(n)
		default:
			return nil, fmt.Errorf("--min-snp-tcb: unknown component %q", k)
		}
	}
	return t, nil
}

func verifyTDX(ctx context.Context, raw []byte, at time.Time, f *collateral.Fetcher, ref *reference.Document) (*attest.Result, error) {
	v := &verifyFlags
	o := tdx.Options{At: at, NoCollateral: v.noCollateral}
	for _, p := range v.trustedRoots {
		certs, err := readPEMCerts(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-root: %w", err)
		}
		o.TrustedRoots = append(o.TrustedRoots, certs...)
	}
	if v.collateralFile != "" {
		b, err := os.ReadFile(v.collateralFile)
		if err != nil {
			return nil, err
		}
		c, err := tdx.ParseCollateralJSON(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.collateralFile, err)
		}
		c.Source = v.collateralFile
		o.Collateral = c
	} else if !v.noCollateral {
		o.Source = &tdx.PCS{BaseURL: v.pcsURL, Fetcher: f}
	}
	if v.ccel != "" {
		b, err := os.ReadFile(v.ccel)
		if err != nil {
			return nil, err
		}
		o.CCEL = b
	}
	res, err := tdx.Verify(ctx, raw, o)
	if err != nil || o.CCEL == nil {
		return res, err
	}
	return res, checkReferenceEvents(res, o.CCEL, ref)
}

func verifySNP(ctx context.Context, raw []byte, at time.Time, f *collateral.Fetcher) (*attest.Result, error) {
	v := &verifyFlags
	o := snp.Options{At: at, Product: v.product, Fetcher: f}
	if len(v.certs) > 0 {
		c, err := snp.LoadCerts(v.certs)
		if err != nil {
			return nil, fmt.Errorf("--certs: %w", err)
		}
		o.Certs = c
	}
	for _, p := range v.trustedRoots {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-root: %w", err)
		}
		r := &trust.AMDRootCerts{}
		if err := r.FromKDSCertBytes(b); err != nil {
			return nil, fmt.Errorf("--trusted-root %s: %w", p, err)
		}
		line := strings.TrimPrefix(r.ProductCerts.Ark.Subject.CommonName, "ARK-")
		r.ProductLine = line
		if o.TrustedRoots == nil {
			o.TrustedRoots = map[string][]*trust.AMDRootCerts{}
		}
		o.TrustedRoots[line] = append(o.TrustedRoots[line], r)
	}
	return snp.Verify(ctx, raw, o)
}

func verifyTPM(raw []byte, at time.Time) (*attest.Result, error) {
	v := &verifyFlags
	o := tpm.Options{At: at, AllowSHA1: v.allowSHA1}
	if v.nonce != "" {
		n, err := hex.DecodeString(strings.TrimPrefix(v.nonce, "0x"))
		if err != nil {
			return nil, fmt.Errorf("--nonce: %w", err)
		}
		o.Nonce = n
	}
	var err error
	if o.Roots, o.Intermediates, err = tpm.LoadRoots(v.tpmRoots); err != nil {
		return nil, fmt.Errorf("--tpm-roots: %w", err)
	}
	return tpm.Verify(raw, o)
}

// readPEMCerts reads every certificate of a PEM (or DER) file.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := attest.ParseCertificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// hasRTMREvents reports whether ref lists expected RTMR events, which
// --ccel compares with the log.
func hasRTMREvents(ref *reference.Document) bool {
	for _, e := range ref.Events {
		if e.RegisterKind == "rtmr" {
			return true
		}
	}
	return false
}

// checkReferenceEvents compares a CCEL with the reference document's
// expected RTMR events, when both are given.
func checkReferenceEvents(res *attest.Result, ccel []byte, ref *reference.Document) error {
	if ref == nil {
		return nil
	}
	var want []tdx.ExpectedEvent
	for _, e := range ref.Events {
		if e.RegisterKind == "rtmr" {
			want = append(want, tdx.ExpectedEvent{Register: e.Register, Type: e.Type, Digest: e.Digest, Description: e.Description})
		}
	}
	if len(want) == 0 {
		return nil
	}
	return tdx.CheckEvents(res, ccel, want)
}

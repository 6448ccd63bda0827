package snp

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
	"github.com/google/logger"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/collateral"
)

// ErrMalformed wraps every parse failure.
var ErrMalformed = errors.New("malformed SEV-SNP report")

// Certs are certificates and CRLs supplied by the user.
type Certs struct {
	VCEK, VLEK, ASK, ASVK, ARK []byte // DER
	// CRLs are DER certificate revocation lists (ARK-signed).
	CRLs [][]byte
	// Skipped lists the files that held neither a certificate nor a CRL
	// (a directory often holds the report too), with the reason.
	Skipped []string
}

// errNotCert marks a file that holds neither a certificate nor a CRL.
var errNotCert = errors.New("not a certificate or CRL")

// LoadCerts reads certificates from files and directories (PEM or DER,
// one or many per file) and sorts them by role using their subject's
// common name (KDS spec 57230: "SEV-VCEK", "SEV-VLEK", "SEV-<product>",
// "SEV-VLEK-<product>", "ARK-<product>"). CRL files are kept too.
func LoadCerts(paths []string) (*Certs, error) {
	files, err := attest.ReadPaths(paths)
	if err != nil {
		return nil, err
	}
	c := &Certs{}
	for _, f := range files {
		if err := c.add(f.Data); errors.Is(err, errNotCert) {
			c.Skipped = append(c.Skipped, fmt.Sprintf("%s: %v", f.Path, err))
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	if c.VCEK == nil && c.VLEK == nil && c.ASK == nil && c.ASVK == nil && c.ARK == nil && len(c.CRLs) == 0 {
		return nil, fmt.Errorf("no certificate or CRL in %s (%s)", strings.Join(paths, ", "), strings.Join(c.Skipped, "; "))
	}
	return c, nil
}

func (c *Certs) add(b []byte) error {
	var ders [][]byte
	if bytes.Contains(b, []byte("-----BEGIN")) {
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type == "X509 CRL" {
				c.CRLs = append(c.CRLs, blk.Bytes)
				continue
			}
			ders = append(ders, blk.Bytes)
		}
	} else {
		if _, err := x509.ParseRevocationList(b); err == nil {
			c.CRLs = append(c.CRLs, b)
			return nil
		}
		ders = append(ders, b)
	}
	for _, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("%w: %v", errNotCert, err)
		}
		cn := cert.Subject.CommonName
		switch {
		case cn == "SEV-VCEK":
			c.VCEK = der
		case cn == "SEV-VLEK":
			c.VLEK = der
		case strings.HasPrefix(cn, "ARK-"):
			c.ARK = der
		case strings.HasPrefix(cn, "SEV-VLEK-"):
			c.ASVK = der
		case strings.HasPrefix(cn, "SEV-"):
			c.ASK = der
		default:
			return fmt.Errorf("certificate %q is not an AMD VCEK, VLEK, ASK, ASVK or ARK", cn)
		}
	}
	return nil
}

// Options configures Verify.
type Options struct {
	// At is the verification time.
	At time.Time
	// Product is "Milan", "Genoa", "Turin" or with a stepping ("Milan-B0");
	// needed for v2 reports, which do not carry the CPUID, when the VCEK
	// does not settle it.
	Product string
	// Certs are user-supplied certificates; they fill in what the
	// extended report's certificate table lacks.
	Certs *Certs
	// TrustedRoots replace the embedded AMD roots: ASK/ASVK+ARK bundles
	// as served by KDS cert_chain, keyed by product line.
	TrustedRoots map[string][]*trust.AMDRootCerts
	// Fetcher fetches missing certificates and CRLs from AMD KDS. With
	// Fetcher.Offline set only its cache is used; nil means no fetching.
	Fetcher *collateral.Fetcher
}

// quietLibraryLog sends go-sev-guest's warnings (google/logger's default
// logger, e.g. abi.go "Neither VCEK nor VLEK certificate found in data
// pages") to io.Discard: astctl reports what matters as checks, and its
// stderr is for its own errors. Errors still reach stderr.
var quietLibraryLog = sync.OnceFunc(func() { logger.Init("go-sev-guest", false, false, io.Discard) })

// ParseEvidence parses a report optionally followed by an extended
// report's certificate table (SNP_GET_EXT_REPORT / configfs-tsm auxblob,
// GHCB spec 56421 §4.1.8.1: GUID table entries of {GUID, offset, length}).
//
// go-sev-guest's parsers are not written for hostile input, so a panic in
// them is turned into ErrMalformed here; the fuzz test calls parseEvidence
// directly so that such panics still show up there.
func ParseEvidence(raw []byte) (a *spb.Attestation, err error) {
	quietLibraryLog()
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("%w: %v", ErrMalformed, r)
		}
	}()
	return parseEvidence(raw)
}

// parseEvidence is ParseEvidence without the recover.
func parseEvidence(raw []byte) (*spb.Attestation, error) {
	if len(raw) < attest.SNPReportSize {
		return nil, fmt.Errorf("%w: %d bytes, a report is %d", ErrMalformed, len(raw), attest.SNPReportSize)
	}
	if err := abi.ValidateReportFormat(raw[:attest.SNPReportSize]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(raw) == attest.SNPReportSize {
		r, err := abi.ReportToProto(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return &spb.Attestation{Report: r, CertificateChain: &spb.CertificateChain{Extras: map[string][]byte{}}}, nil
	}
	a, err := abi.ReportCertsToProto(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate table after the report: %v", ErrMalformed, err)
	}
	if a.CertificateChain == nil {
		a.CertificateChain = &spb.CertificateChain{}
	}
	if a.CertificateChain.Extras == nil {
		a.CertificateChain.Extras = map[string][]byte{}
	}
	return a, nil
}

// Verify verifies an SEV-SNP report. The error is non-nil only for
// unusable input; verification outcomes are checks in the result.
func Verify(ctx context.Context, raw []byte, opts Options) (*attest.Result, error) {
	a, err := ParseEvidence(raw)
	if err != nil {
		return nil, err
	}
	rep := a.GetReport()
	res := attest.NewResult(attest.TypeSNP, opts.At)
	res.Version = fmt.Sprintf("report v%d", rep.GetVersion())
	res.Pass("report_format", res.Version)
	if opts.Certs != nil && len(opts.Certs.Skipped) > 0 {
		res.Skip("certs", "ignored, not a certificate or CRL: "+strings.Join(opts.Certs.Skipped, "; "))
	}

	info, err := abi.ParseSignerInfo(rep.GetSignerInfo())
	if err != nil {
		return nil, fmt.Errorf("%w: signer info: %v", ErrMalformed, err)
	}
	chain := a.CertificateChain
	if c := opts.Certs; c != nil {
		fill := func(dst *[]byte, src []byte) {
			if len(*dst) == 0 && len(src) > 0 {
				*dst = src
			}
		}
		fill(&chain.VcekCert, c.VCEK)
		fill(&chain.VlekCert, c.VLEK)
		fill(&chain.AskCert, c.ASK)
		fill(&chain.ArkCert, c.ARK)
		if info.SigningKey == abi.VlekReportSigner {
			fill(&chain.AskCert, c.ASVK)
		}
	}

	// With the endorsement key at hand, complete the chain from the
	// embedded (or trusted) product roots, so nothing is fetched and the
	// library does not guess a product.
	hadEK := len(endorsementDER(a, info.SigningKey)) > 0
	if len(chain.AskCert) == 0 || len(chain.ArkCert) == 0 {
		line := productLine(rep, opts.Product)
		if c, err := x509.ParseCertificate(endorsementDER(a, info.SigningKey)); err == nil && line == "" {
			if exts, err := kds.CertificateExtensions(c, info.SigningKey); err == nil {
				line = kds.ProductLineOfProductName(exts.ProductName)
			}
		}
		var roots *trust.AMDRootCerts
		if rs := opts.TrustedRoots[line]; len(rs) > 0 {
			roots = rs[0]
		} else if line != "" {
			roots, _ = trust.GetDefaultRootCerts(line)
		}
		if roots != nil && roots.ProductCerts != nil && roots.ProductCerts.Ark != nil {
			ica := roots.ProductCerts.Ask
			if info.SigningKey == abi.VlekReportSigner {
				ica = roots.ProductCerts.Asvk
			}
			if len(chain.AskCert) == 0 && ica != nil {
				chain.AskCert = ica.Raw
			}
			if len(chain.ArkCert) == 0 {
				chain.ArkCert = roots.ProductCerts.Ark.Raw
			}
		}
	}
	complete := len(endorsementDER(a, info.SigningKey)) > 0 && len(chain.AskCert) > 0 && len(chain.ArkCert) > 0

	vopts := &verify.Options{Now: opts.At, TrustedRoots: opts.TrustedRoots, DisableCertFetching: opts.Fetcher == nil || complete}
	if opts.Fetcher != nil {
		vopts.Getter = collateral.SEVGetter{F: opts.Fetcher}
	}
	productLine := ""
	if fms := rep.GetCpuid1EaxFms(); fms != 0 {
		productLine = kds.ProductLineFromFms(fms)
		res.Claims["product"] = productLine
	}
	if opts.Product != "" {
		var p *spb.SevProduct
		var err error
		if strings.Contains(opts.Product, "-") {
			p, err = kds.ParseProductName(opts.Product, info.SigningKey)
		} else {
			p, err = kds.ParseProductLine(opts.Product)
		}
		if err != nil {
			return nil, fmt.Errorf("--product %q: %w", opts.Product, err)
		}
		vopts.Product = p
		if productLine == "" {
			productLine = kds.ProductLine(p)
		}
	}
	signer := "VCEK"
	if info.SigningKey == abi.VlekReportSigner {
		signer = "VLEK"
	}
	res.Claims["signer"] = strings.ToLower(signer)
	res.Claims = mergeClaims(res.Claims, claims(rep))
	res.TCB = &attest.TCB{Advisories: []string{}, SNP: tcbOf(rep, productLine)}

	// Missing endorsement key and offline: say so plainly rather than
	// letting the library try the network.
	ek := chain.GetVcekCert()
	if info.SigningKey == abi.VlekReportSigner {
		ek = chain.GetVlekCert()
	}
	if len(ek) == 0 && (opts.Fetcher == nil || info.SigningKey == abi.VlekReportSigner) {
		res.Fail("endorsement_key", fmt.Sprintf("missing %s certificate: pass it with --certs (or the extended report's certificate table)%s", signer,
			map[bool]string{true: "; a VLEK cannot be fetched from KDS", false: ", or allow fetching from AMD KDS"}[info.SigningKey == abi.VlekReportSigner]))
		return res, nil
	}

	if line := ekProductLine(a, info.SigningKey, productLine); len(opts.TrustedRoots) > 0 && line != "" && len(opts.TrustedRoots[line]) == 0 {
		res.Fail("signature_chain", fmt.Sprintf("%s of %s not verified: --trusted-root gives roots for %s only, none for %s", signer, line, rootLines(opts.TrustedRoots), line))
		return res, nil
	}
	if err := verify.SnpAttestationContext(ctx, a, vopts); err != nil {
		if !hadEK && len(endorsementDER(a, info.SigningKey)) == 0 {
			res.Fail("endorsement_key", fmt.Sprintf("missing %s certificate: not in --certs or the certificate table, and not obtained from AMD KDS: %v", signer, err))
			return res, nil
		}
		msg := err.Error()
		if _, last, ok := strings.Cut(msg, "could not be verified by any trusted roots. Last error: "); ok {
			line := ekProductLine(a, info.SigningKey, productLine)
			msg = fmt.Sprintf("%s not verified by the trusted roots of %s (tried %s): %s", signer, line, describeRoots(opts.TrustedRoots, line), last)
		}
		res.Fail("signature_chain", msg)
		return res, nil
	}
	ekCert, err := x509.ParseCertificate(endorsementDER(a, info.SigningKey))
	if err != nil {
		res.Fail("signature_chain", "endorsement key certificate: "+err.Error())
		return res, nil
	}
	if productLine == "" {
		if exts, err := kds.CertificateExtensions(ekCert, info.SigningKey); err == nil {
			productLine = kds.ProductLineOfProductName(exts.ProductName)
			res.TCB.SNP = tcbOf(rep, productLine)
		}
	}
	res.Claims["product"] = productLine
	res.Pass("signature_chain", fmt.Sprintf("report signed by the %s; %s -> %s -> ARK-%s (valid at %s)", signer, signer,
		map[bool]string{true: "ASVK", false: "ASK"}[info.SigningKey == abi.VlekReportSigner], productLine, opts.At.Format(time.RFC3339)))

	// The endorsement key is issued for one TCB: REPORTED_TCB must be it,
	// otherwise a key for an old (vulnerable) TCB signs a report that
	// claims a newer one (KDS spec 57230 §3.1, VCEK extension
	// 1.3.6.1.4.1.3704.1.3.x).
	exts, err := kds.CertificateExtensions(ekCert, info.SigningKey)
	if err == nil && uint64(exts.TCBVersion) != rep.GetReportedTcb() {
		err = fmt.Errorf("%s is for TCB 0x%016x, the report claims REPORTED_TCB 0x%016x", signer, uint64(exts.TCBVersion), rep.GetReportedTcb())
	}
	res.Check("endorsement_tcb", err, fmt.Sprintf("%s TCB matches REPORTED_TCB (%s)", signer, res.TCB.SNP.Reported))
	if err == nil && info.SigningKey == abi.VcekReportSigner && len(exts.HWID) == abi.ChipIDSize && !bytes.Equal(exts.HWID, rep.GetChipId()) {
		res.Fail("endorsement_chip", "VCEK hwID is not the report's CHIP_ID")
	}

	checkRevocation(ctx, res, opts, a, productLine, info.SigningKey, ekCert)
	return res, nil
}

// ekProductLine is the product line of the evidence: known from the
// report or --product, else named by the endorsement key certificate.
func ekProductLine(a *spb.Attestation, key abi.ReportSigner, known string) string {
	if known != "" {
		return known
	}
	c, err := x509.ParseCertificate(endorsementDER(a, key))
	if err != nil {
		return ""
	}
	exts, err := kds.CertificateExtensions(c, key)
	if err != nil {
		return ""
	}
	return kds.ProductLineOfProductName(exts.ProductName)
}

// rootLines lists the product lines roots has ARKs for.
func rootLines(roots map[string][]*trust.AMDRootCerts) string {
	var l []string
	for k := range roots {
		l = append(l, k)
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

// describeRoots names the ARKs verification tried for a product line:
// those of --trusted-root, or the embedded one.
func describeRoots(roots map[string][]*trust.AMDRootCerts, line string) string {
	if len(roots) == 0 {
		return "the embedded AMD ARK-" + line
	}
	var l []string
	for _, r := range roots[line] {
		if r.ProductCerts != nil && r.ProductCerts.Ark != nil {
			l = append(l, fmt.Sprintf("%q serial %x from --trusted-root", r.ProductCerts.Ark.Subject.CommonName, r.ProductCerts.Ark.SerialNumber))
		}
	}
	return strings.Join(l, ", ")
}

func endorsementDER(a *spb.Attestation, key abi.ReportSigner) []byte {
	if key == abi.VlekReportSigner {
		return a.GetCertificateChain().GetVlekCert()
	}
	return a.GetCertificateChain().GetVcekCert()
}

// checkRevocation checks the ASK/ASVK and the endorsement key against the
// ARK's CRL, from --certs or KDS (cached). Without a CRL the check is
// skipped, and says so.
func checkRevocation(ctx context.Context, res *attest.Result, opts Options, a *spb.Attestation, productLine string, key abi.ReportSigner, ek *x509.Certificate) {
	var crlDER []byte
	if opts.Certs != nil && len(opts.Certs.CRLs) > 0 {
		crlDER = opts.Certs.CRLs[0]
	} else if opts.Fetcher != nil && productLine != "" {
		_, b, err := opts.Fetcher.Get(ctx, kds.CrlLinkByKey(productLine, key))
		if err != nil {
			res.Skip("revocation", "no CRL: "+err.Error())
			return
		}
		crlDER = b
	} else {
		res.Skip("revocation", "no CRL supplied (add the KDS crl file to --certs, or allow fetching)")
		return
	}
	crl, err := x509.ParseRevocationList(crlDER)
	if err != nil {
		res.Fail("revocation", "CRL does not parse: "+err.Error())
		return
	}
	roots, _ := trust.GetDefaultRootCerts(productLine)
	if rs := opts.TrustedRoots[productLine]; len(rs) > 0 {
		roots = rs[0]
	}
	if roots == nil || roots.ProductCerts == nil || roots.ProductCerts.Ark == nil {
		res.Skip("revocation", "no ARK for product "+productLine)
		return
	}
	ark := roots.ProductCerts.Ark
	if err := crl.CheckSignatureFrom(ark); err != nil {
		res.Fail("revocation", "CRL not signed by the ARK: "+err.Error())
		return
	}
	if opts.At.After(crl.NextUpdate) {
		res.Fail("revocation", fmt.Sprintf("CRL expired: nextUpdate %s", crl.NextUpdate.Format(time.RFC3339)))
		return
	}
	ica := roots.ProductCerts.Ask
	if key == abi.VlekReportSigner {
		ica = roots.ProductCerts.Asvk
	}
	for _, e := range crl.RevokedCertificateEntries {
		for _, c := range []*x509.Certificate{ica, ek} {
			if c != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				res.Fail("revocation", fmt.Sprintf("%q is revoked", c.Subject.CommonName))
				return
			}
		}
	}
	res.Pass("revocation", "ARK CRL revokes neither the intermediate nor the endorsement key")
}

func mergeClaims(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// Guest policy bits (ABI spec 56860 §4.3, Table 9).
const (
	policySMT     = 1 << 16
	policyMigrate = 1 << 18
	policyDebug   = 1 << 19
)

// claims returns the report's fields keyed by the claim names of
// docs/verify.md.
func claims(r *spb.Report) map[string]string {
	h := hex.EncodeToString
	c := map[string]string{
		"report_version":    fmt.Sprint(r.GetVersion()),
		"guest_svn":         fmt.Sprint(r.GetGuestSvn()),
		"policy":            fmt.Sprintf("0x%x", r.GetPolicy()),
		"debug":             fmt.Sprint(r.GetPolicy()&policyDebug != 0),
		"migrate_ma":        fmt.Sprint(r.GetPolicy()&policyMigrate != 0),
		"smt":               fmt.Sprint(r.GetPolicy()&policySMT != 0),
		"family_id":         h(r.GetFamilyId()),
		"image_id":          h(r.GetImageId()),
		"vmpl":              fmt.Sprint(r.GetVmpl()),
		"measurement":       h(r.GetMeasurement()),
		"host_data":         h(r.GetHostData()),
		"report_data":       h(r.GetReportData()),
		"id_key_digest":     h(r.GetIdKeyDigest()),
		"author_key_digest": h(r.GetAuthorKeyDigest()),
		"report_id":         h(r.GetReportId()),
		"report_id_ma":      h(r.GetReportIdMa()),
		"chip_id":           h(r.GetChipId()),
		"platform_info":     fmt.Sprintf("0x%x", r.GetPlatformInfo()),
		"reported_tcb":      fmt.Sprintf("0x%016x", r.GetReportedTcb()),
		"launch_tcb":        fmt.Sprintf("0x%016x", r.GetLaunchTcb()),
		"build":             fmt.Sprintf("%d.%d.%d", r.GetCurrentMajor(), r.GetCurrentMinor(), r.GetCurrentBuild()),
	}
	if fms := r.GetCpuid1EaxFms(); fms != 0 {
		c["cpuid_fms"] = fmt.Sprintf("0x%x", fms)
	}
	return c
}

// parts splits a TCB_VERSION. Milan and Genoa: bootloader, TEE, 4
// reserved, SNP, microcode (bytes 0..7); Turin: FMC, bootloader, TEE,
// SNP, 3 reserved, microcode (ABI spec 56860 rev 1.57, Table 3).
func parts(v uint64, productLine string) attest.TCBParts {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if productLine == "Turin" {
		return attest.TCBParts{FMC: b[0], Bootloader: b[1], TEE: b[2], SNP: b[3], Microcode: b[7]}
	}
	return attest.TCBParts{Bootloader: b[0], TEE: b[1], SNP: b[6], Microcode: b[7]}
}

func tcbOf(r *spb.Report, productLine string) *attest.SNPTCB {
	return &attest.SNPTCB{
		Reported:  parts(r.GetReportedTcb(), productLine),
		Committed: parts(r.GetCommittedTcb(), productLine),
		Current:   parts(r.GetCurrentTcb(), productLine),
		Launch:    parts(r.GetLaunchTcb(), productLine),
	}
}

// productLine returns the product line from the report's CPUID (v3+) or
// the --product option.
func productLine(r *spb.Report, product string) string {
	if fms := r.GetCpuid1EaxFms(); fms != 0 {
		return kds.ProductLineFromFms(fms)
	}
	if product == "" {
		return ""
	}
	if l := kds.ProductLineOfProductName(product); l != "Unknown" {
		return l
	}
	return ""
}

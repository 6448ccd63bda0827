package boot

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	snpmodel "github.com/aster-cvm/aster/frame/sev/model"
	tdxmodel "github.com/aster-cvm/aster/frame/tdx/model"
	"github.com/aster-cvm/aster/reference"
	"github.com/aster-cvm/aster/services/tee/tdx"
	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
	tdxabi "github.com/google/go-tdx-guest/abi"
	tdxpb "github.com/google/go-tdx-guest/proto/tdx"
)

// debianOVMF is the firmware whose launch measurements the reference
// documents describe (astctl measure reads its SEV and TDX metadata).
const debianOVMF = "/usr/share/ovmf/OVMF.fd"

var (
	astctlOnce sync.Once
	astctlBin  string
	astctlErr  error
)

// astctl builds astctl once and returns its path.
func astctl(t *testing.T) string {
	t.Helper()
	astctlOnce.Do(func() {
		astctlBin = filepath.Join(workDir, "astctl")
		cmd := exec.Command("go", "build", "-o", astctlBin, "./cmd/astctl")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			astctlErr = fmt.Errorf("go build ./cmd/astctl: %v\n%s", err, b)
		}
	})
	if astctlErr != nil {
		t.Fatal(astctlErr)
	}
	return astctlBin
}

// measure runs astctl measure PLATFORM --ovmf OVMF.fd --json and returns
// the reference document.
func measure(t *testing.T, args ...string) *reference.Document {
	t.Helper()
	if _, err := os.Stat(debianOVMF); err != nil {
		t.Skipf("no %s: %v", debianOVMF, err)
	}
	out, err := exec.Command(astctl(t), append([]string{"measure"}, args...)...).Output()
	if err != nil {
		t.Fatalf("astctl measure %s: %v", strings.Join(args, " "), err)
	}
	doc, err := reference.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// attestBoot boots the kernel with astctl run --tee-model plat
// --measurements ref and the attest program as init, and returns the
// console's "name: hex" lines decoded.
func attestBoot(t *testing.T, plat string, doc *reference.Document, reportData []byte) map[string][]byte {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	if kernel.err != nil {
		t.Fatalf("building the kernel: %v", kernel.err)
	}
	ref := filepath.Join(t.TempDir(), plat+"-reference.json")
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(buildStatic(t, "./test/abi/programs/attest"))
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"bin/attest": string(bin)}, "bin", "dev")
	cmd := exec.Command(astctl(t), "run", kernel.dir, "--tee-model", plat, "--measurements", ref,
		"--initrd", img, "--memory", "512M", "--timeout", bootTimeout.String(),
		"--append", "init=/bin/attest -- "+plat+" "+hex.EncodeToString(reportData))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	console := strings.ReplaceAll(string(out), "\r\n", "\n")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s\n--- console (%v) ---\n%s--- stderr ---\n%s", cmd, time.Since(start).Round(time.Millisecond), console, stderr.String())
		}
	})
	if err != nil {
		t.Fatalf("astctl run: %v", err)
	}
	if !strings.Contains(console, "attest: done") {
		t.Fatal("the attest program did not finish")
	}
	if !strings.Contains(console, "(software model, not a TEE)") || !strings.Contains(console, "measurements from fw_cfg opt/aster/measurements ("+plat+")") {
		t.Error("the console does not say the platform is a model with the host's measurements")
	}
	lines := map[string][]byte{}
	for _, l := range strings.Split(console, "\n") {
		name, val, ok := strings.Cut(l, ": ")
		if !ok {
			continue
		}
		if v, err := hex.DecodeString(strings.TrimSpace(val)); err == nil && len(v) > 0 {
			lines[name] = v
		}
	}
	return lines
}

// modelVCEKChain certifies the model's published test VCEK under ARK and
// ASK keys made here: the host's trust anchor for model reports.
func modelVCEKChain(t *testing.T) *sevtest.AmdSigner {
	t.Helper()
	rk := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 4096)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ark, ask := rk(), rk()
	now := time.Now()
	b := &sevtest.AmdSignerBuilder{
		Keys:            &sevtest.AmdKeys{Ark: ark, Ask: ask, Asvk: ask, Vcek: &ecdsa.PrivateKey{PublicKey: *snpmodel.VCEKPublicKey()}},
		ProductName:     "Milan-B1",
		CSPID:           "aster model-snp test",
		ArkCreationTime: now, AskCreationTime: now, AsvkCreationTime: now, VcekCreationTime: now,
	}
	s, err := b.TestOnlyCertChain()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttest closes the attestation loop on both models: astctl measure
// computes the reference document, astctl run hands it to the guest through
// fw_cfg, the unmodified go-sev-guest and go-tdx-guest clients fetch
// evidence inside the guest through /dev/sev-guest and /dev/tdx_guest, and
// the host checks it against the reference and the model's test keys.
func TestAttest(t *testing.T) {
	t.Run("model-snp", func(t *testing.T) {
		doc := measure(t, "snp", "--ovmf", debianOVMF, "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--json")
		nonce := sha512.Sum512([]byte("TestAttest model-snp nonce"))
		lines := attestBoot(t, "snp", doc, nonce[:])
		signer := modelVCEKChain(t)
		roots := map[string][]*trust.AMDRootCerts{"Milan": {{
			Product: "Milan", ProductLine: "Milan",
			ProductCerts: &trust.ProductCerts{Ark: signer.Ark, Ask: signer.Ask, Asvk: signer.Asvk},
		}}}
		opts := &verify.Options{TrustedRoots: roots, DisableCertFetching: true, Product: abi.DefaultSevProduct(), Now: time.Now()}
		// The same checks for the report configfs-tsm's outblob carries
		// (go-configfs-tsm's client in the guest).
		for _, name := range []string{"snp report", "snp extended report", "snp configfs outblob"} {
			raw := lines[name]
			if len(raw) != abi.ReportSize {
				t.Fatalf("%s: %d bytes", name, len(raw))
			}
			rp, err := abi.ReportToProto(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(rp.GetMeasurement()); got != doc.Measurements.SNPMeasurement {
				t.Errorf("%s: MEASUREMENT %s, reference %s", name, got, doc.Measurements.SNPMeasurement)
			}
			if !bytes.Equal(rp.GetReportData(), nonce[:]) {
				t.Errorf("%s: REPORT_DATA %x, want %x", name, rp.GetReportData(), nonce)
			}
			att := &spb.Attestation{Report: rp, CertificateChain: &spb.CertificateChain{
				VcekCert: signer.Vcek.Raw, AskCert: signer.Ask.Raw, ArkCert: signer.Ark.Raw,
			}}
			if err := verify.SnpAttestation(att, opts); err != nil {
				t.Errorf("%s: verify: %v", name, err)
			}
		}
		if k := lines["snp derived key"]; len(k) != 32 || bytes.Equal(k, make([]byte, 32)) {
			t.Errorf("derived key %x", k)
		}
		if p := string(lines["snp configfs provider"]); p != "sev_guest\n" {
			t.Errorf("configfs-tsm's provider %q, want %q", p, "sev_guest\n")
		}
		// The model's host hands out no certificates (TestVCEK), so the
		// auxblob is empty, as the ioctl's certificate buffer is.
		if aux := lines["snp configfs auxblob"]; len(aux) != 0 {
			t.Errorf("auxblob of %d bytes from a host without certificates", len(aux))
		}
	})
	t.Run("model-tdx", func(t *testing.T) {
		doc := measure(t, "tdx", "--ovmf", debianOVMF, "--json")
		// astctl measure tdx without a kernel computes MRTD only; the
		// RTMRs are set by hand to known digests.
		var rtmr [tdx.NumRTMR]string
		for i := range rtmr {
			d := sha512.Sum384(fmt.Appendf(nil, "TestAttest RTMR%d", i))
			rtmr[i] = hex.EncodeToString(d[:])
		}
		m := &doc.Measurements
		m.RTMR0, m.RTMR1, m.RTMR2, m.RTMR3 = rtmr[0], rtmr[1], rtmr[2], rtmr[3]
		nonce := sha512.Sum512([]byte("TestAttest model-tdx nonce"))
		lines := attestBoot(t, "tdx", doc, nonce[:])
		raw := lines["tdx report"]
		r, err := tdx.ParseReport(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(r.MRTD[:]); got != m.MRTD {
			t.Errorf("MRTD %s, reference %s", got, m.MRTD)
		}
		for i := range r.RTMR {
			if got := hex.EncodeToString(r.RTMR[i][:]); got != rtmr[i] {
				t.Errorf("RTMR%d %s, reference %s", i, got, rtmr[i])
			}
		}
		if r.ReportData != nonce {
			t.Errorf("REPORTDATA %x, want %x", r.ReportData, nonce)
		}
		if !tdxmodel.VerifyReportMAC(raw) {
			t.Error("the TDREPORT's MAC does not check with the model's published key")
		}
		key, err := tdxmodel.AttestationKey()
		if err != nil {
			t.Fatal(err)
		}
		// The quote, through go-tdx-guest's device path and through
		// configfs-tsm (go-configfs-tsm's client): a v4 quote over the
		// same TD, signed by the model's test attestation key.
		for _, name := range []string{"tdx quote", "tdx configfs outblob"} {
			q := lines[name]
			anyq, err := tdxabi.QuoteToProto(q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			qv4, ok := anyq.(*tdxpb.QuoteV4)
			if !ok {
				t.Fatalf("%s: %T", name, anyq)
			}
			body := qv4.GetTdQuoteBody()
			if !bytes.Equal(body.GetReportData(), nonce[:]) || !bytes.Equal(body.GetMrTd(), r.MRTD[:]) {
				t.Errorf("%s: the quote body does not match the TDREPORT", name)
			}
			sig := qv4.GetSignedData().GetSignature()
			h := sha256.Sum256(q[:0x30+0x248]) // header || TD quote body
			if len(sig) != 64 || !ecdsa.Verify(key, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
				t.Errorf("%s: the signature does not verify with the model's test attestation key", name)
			}
		}
		if p := string(lines["tdx configfs provider"]); p != "tdx_guest\n" {
			t.Errorf("configfs-tsm's provider %q, want %q", p, "tdx_guest\n")
		}
	})
}

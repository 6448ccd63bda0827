package tpm

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	attestpb "github.com/google/go-tpm-tools/proto/attest"
	tpmpb "github.com/google/go-tpm-tools/proto/tpm"
	tpmquote "github.com/google/go-tpm-tools/quote"
	"github.com/google/go-tpm-tools/server"
	"github.com/google/go-tpm/legacy/tpm2"

	aattest "github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/eventlog"
)

// Options configures Verify.
type Options struct {
	// At is the verification time of the AK certificate chain.
	At time.Time
	// Roots are the trusted AK/EK CA roots; Intermediates help build the
	// chain (the attestation's own intermediates are used too).
	Roots, Intermediates []*x509.Certificate
	// Nonce is the extraData the quotes must carry. Without it the
	// attestation could be a replay; Verify fails when it is empty.
	Nonce []byte
	// AllowSHA1 accepts SHA-1 PCR banks (old distributions' logs).
	AllowSHA1 bool
}

// LoadRoots reads PEM or DER certificates from files and directories and
// splits them into self-signed roots and intermediates.
func LoadRoots(paths []string) (roots, inters []*x509.Certificate, err error) {
	files, err := aattest.ReadPaths(paths)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		certs, err := aattest.ParseCertificates(f.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
				roots = append(roots, c)
			} else {
				inters = append(inters, c)
			}
		}
	}
	return roots, inters, nil
}

// Verify verifies a go-tpm-tools attestation (binary or JSON protobuf).
// The error is non-nil only for unusable input.
func Verify(raw []byte, opts Options) (*aattest.Result, error) {
	a, err := aattest.ParseTPMAttestation(raw)
	if err != nil {
		return nil, err
	}
	res := aattest.NewResult(aattest.TypeTPM, opts.At)
	res.Version = "go-tpm-tools attest.Attestation"
	res.PCRs = map[string]string{}
	for _, q := range a.GetQuotes() {
		bank := eventlog.AlgName(uint16(q.GetPcrs().GetHash()))
		for i, v := range q.GetPcrs().GetPcrs() {
			res.PCRs[fmt.Sprintf("%s:%d", bank, i)] = hex.EncodeToString(v)
		}
	}
	res.Pass("attestation_format", fmt.Sprintf("%d quotes, %d-byte event log", len(a.GetQuotes()), len(a.GetEventLog())))

	if len(opts.Nonce) == 0 {
		res.Fail("nonce", "no nonce given (--nonce): without it a recorded attestation can be replayed")
		return res, nil
	}

	// AK certificate chain, at --at.
	if len(a.GetAkCert()) == 0 {
		res.Fail("ak_chain", "the attestation has no AK certificate")
		return res, nil
	}
	if len(opts.Roots) == 0 {
		res.Fail("ak_chain", "no trusted roots (--tpm-roots)")
		return res, nil
	}
	ak, err := x509.ParseCertificate(a.GetAkCert())
	if err != nil {
		res.Fail("ak_chain", "AK certificate: "+err.Error())
		return res, nil
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range opts.Roots {
		roots.AddCert(c)
	}
	for _, c := range opts.Intermediates {
		inters.AddCert(c)
	}
	for _, der := range a.GetIntermediateCerts() {
		if c, err := x509.ParseCertificate(der); err == nil {
			inters.AddCert(c)
		}
	}
	// The SAN extension of AK certificates is critical and carries TPM
	// attributes Go does not parse (TCG EK Credential Profile §3.2.9), so
	// verify a copy with it marked as handled, as go-tpm-tools does.
	akv := *ak
	akv.UnhandledCriticalExtensions = nil
	if _, err := akv.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: opts.At,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		res.Fail("ak_chain", "AK certificate: "+err.Error())
		return res, nil
	}
	res.Pass("ak_chain", fmt.Sprintf("AK certificate %q chains to a trusted root at %s", ak.Subject.CommonName, opts.At.Format(time.RFC3339)))
	if info, err := server.GetGCEInstanceInfo(ak); err == nil && info != nil {
		res.Claims["gce_project_id"] = info.GetProjectId()
		res.Claims["gce_zone"] = info.GetZone()
		res.Claims["gce_instance_name"] = info.GetInstanceName()
	}

	// ak_pub must be the certified key: tools read either one.
	if pub, err := tpm2.DecodePublic(a.GetAkPub()); err != nil {
		res.Fail("ak_pub", "AK public area: "+err.Error())
		return res, nil
	} else if k, err := pub.Key(); err != nil || !sameKey(k, ak.PublicKey) {
		res.Fail("ak_pub", "AK public area is not the key of the AK certificate")
		return res, nil
	}

	// Every quote must verify, not just the one go-tpm-tools picks for
	// the replay: PCR values of all banks are reported as claims.
	for _, q := range a.GetQuotes() {
		if err := tpmquote.Verify(q, ak.PublicKey, opts.Nonce); err != nil {
			res.Fail("quote", fmt.Sprintf("%s quote: %v", eventlog.AlgName(uint16(q.GetPcrs().GetHash())), err))
			return res, nil
		}
	}

	ms, err := verifyAttestation(a, server.VerifyOpts{Nonce: opts.Nonce, TrustedAKs: []crypto.PublicKey{ak.PublicKey}, AllowSHA1: opts.AllowSHA1})
	if err != nil {
		res.Fail("event_log", err.Error())
		return res, nil
	}
	// go-tpm-tools replays the log against one bank only; replay every
	// quoted bank the log has digests for, so no bank's claims rest on
	// unchecked digests.
	if err := replayAll(a.GetEventLog(), a); err != nil {
		res.Fail("event_log", err.Error())
		return res, nil
	}
	res.Pass("quote", fmt.Sprintf("%d quotes signed by the AK over their PCRs with the nonce as extraData", len(a.GetQuotes())))
	res.Pass("event_log", "event log replays to the quoted PCRs")
	res.Claims["nonce"] = hex.EncodeToString(opts.Nonce)
	res.Claims["platform"] = ms.GetPlatform().GetTechnology().String()
	res.Claims["secure_boot"] = fmt.Sprint(ms.GetSecureBoot().GetEnabled())
	if v := ms.GetPlatform().GetScrtmVersionId(); len(v) > 0 {
		res.Claims["scrtm_version_id"] = hex.EncodeToString(v)
	}
	if k := ms.GetLinuxKernel().GetCommandLine(); k != "" {
		res.Claims["kernel_cmdline"] = k
	}
	return res, nil
}

// sameKey compares public keys (every crypto public key implements Equal).
func sameKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// replayAll replays the event log in every bank that is both quoted and
// logged, and compares each replayed PCR with the quoted value.
func replayAll(raw []byte, a interface {
	GetQuotes() []*tpmpb.Quote
}) error {
	l, err := eventlog.Parse(raw, eventlog.TCG)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	banks, replayErr := l.Replay()
	for _, q := range a.GetQuotes() {
		alg := eventlog.AlgName(uint16(q.GetPcrs().GetHash()))
		if !slices.Contains(l.Algs, alg) {
			continue
		}
		regs, ok := banks[alg]
		if !ok {
			return fmt.Errorf("event log: %w", replayErr)
		}
		for idx, want := range regs {
			got, ok := q.GetPcrs().GetPcrs()[uint32(idx)]
			if !ok {
				continue
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("event log replays %s PCR%d to %x, the quote has %x", alg, idx, want, got)
			}
		}
	}
	return nil
}

// verifyAttestation is server.VerifyAttestation with its panics turned
// into errors: go-eventlog panics on some malformed logs (an event type it
// cannot convert, found by fuzzing), and the event log is unsigned input
// that must fail the check, not stop the verifier.
func verifyAttestation(a *attestpb.Attestation, o server.VerifyOpts) (ms *attestpb.MachineState, err error) {
	defer func() {
		if p := recover(); p != nil {
			ms, err = nil, fmt.Errorf("the event log cannot be parsed: %v", p)
		}
	}()
	return server.VerifyAttestation(a, o)
}

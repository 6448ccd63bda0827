package tdx

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aster-cvm/aster/attest/collateral"
)

// DefaultPCSURL is Intel's Provisioning Certification Service.
const DefaultPCSURL = "https://api.trustedservices.intel.com"

// intelRootCRLURL is where Intel publishes the SGX Root CA CRL (the CRL
// distribution point of the root certificate).
const intelRootCRLURL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

// PCS fetches collateral from Intel PCS or a PCCS with the v4 API (Intel
// SGX and TDX PCS API spec v4): TDX TCB info, TDX QE identity, the PCK
// CRL and the root CA CRL.
type PCS struct {
	// BaseURL is the PCS or PCCS base URL; empty means DefaultPCSURL.
	BaseURL string
	// Fetcher performs cached GETs.
	Fetcher *collateral.Fetcher
}

// isPCCS reports whether the base URL is a caching service rather than
// Intel's PCS; a PCCS serves the root CA CRL itself.
func (p *PCS) base() (string, bool) {
	b := strings.TrimRight(p.BaseURL, "/")
	if b == "" {
		return DefaultPCSURL, false
	}
	return b, b != DefaultPCSURL
}

// Collateral implements CollateralSource.
func (p *PCS) Collateral(ctx context.Context, fmspc, ca string) (*Collateral, error) {
	base, pccs := p.base()
	var j CollateralV3
	get := func(u, chainHeader string) ([]byte, string, error) {
		h, body, err := p.Fetcher.Get(ctx, u)
		if err != nil {
			return nil, "", err
		}
		chain := ""
		if chainHeader != "" {
			raw := h.Get(chainHeader)
			if raw == "" {
				return nil, "", fmt.Errorf("%s: response has no %s header", u, chainHeader)
			}
			if chain, err = url.QueryUnescape(raw); err != nil {
				return nil, "", fmt.Errorf("%s: %s header: %w", u, chainHeader, err)
			}
		}
		return body, chain, nil
	}
	signed := func(body []byte, key string) (string, string, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return "", "", err
		}
		var sig string
		if err := json.Unmarshal(m["signature"], &sig); err != nil || m[key] == nil {
			return "", "", fmt.Errorf("response lacks %q or its signature", key)
		}
		return string(m[key]), sig, nil
	}

	body, chain, err := get(fmt.Sprintf("%s/tdx/certification/v4/tcb?fmspc=%s", base, url.QueryEscape(fmspc)), "TCB-Info-Issuer-Chain")
	if err != nil {
		return nil, err
	}
	j.TcbInfoIssuerChain = chain
	if j.TcbInfo, j.TcbInfoSignature, err = signed(body, "tcbInfo"); err != nil {
		return nil, fmt.Errorf("TCB info: %w", err)
	}

	body, chain, err = get(base+"/tdx/certification/v4/qe/identity", "SGX-Enclave-Identity-Issuer-Chain")
	if err != nil {
		return nil, err
	}
	j.QeIdentityIssuerChain = chain
	if j.QeIdentity, j.QeIdentitySignature, err = signed(body, "enclaveIdentity"); err != nil {
		return nil, fmt.Errorf("QE identity: %w", err)
	}

	body, chain, err = get(fmt.Sprintf("%s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", base, ca), "SGX-PCK-CRL-Issuer-Chain")
	if err != nil {
		return nil, err
	}
	j.PckCrlIssuerChain, j.PckCrl = chain, crlHex(body)

	rootURL := intelRootCRLURL
	if pccs {
		rootURL = base + "/sgx/certification/v4/rootcacrl"
	}
	if body, _, err = get(rootURL, ""); err != nil {
		return nil, err
	}
	j.RootCaCrl = crlHex(body)

	c, err := j.Decode()
	if err != nil {
		return nil, err
	}
	c.Source = base
	return c, nil
}

// crlHex returns a CRL body as hex DER; PCCS returns the root CA CRL
// already hex-encoded, PCS returns DER.
func crlHex(b []byte) string {
	s := strings.TrimSpace(string(b))
	if _, err := hex.DecodeString(s); err == nil && len(s) > 0 {
		return s
	}
	return hex.EncodeToString(b)
}

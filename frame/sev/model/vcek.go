package model

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"math/big"
	"sync"
)

// VCEKLabel is the published label the model's test VCEK is derived from:
// the private scalar is the first SHA-384("<label> #<n>") that is a valid
// P-384 scalar. Anyone can compute the key, so a report it signs proves
// nothing: it is a model/test key, never an AMD one. A host test certifies
// its public key (VCEKPublicKey) under an ARK and ASK of its own, so that
// go-sev-guest's verify accepts the model's reports.
const VCEKLabel = "Aster model-snp VCEK: a published test key, not a secret, not AMD's"

var (
	vcekOnce sync.Once
	vcekKey  *ecdsa.PrivateKey
)

// vcek returns the model's test VCEK (ECDSA P-384, the VCEK's curve:
// [SNP-ABI] "signature_algo 1: ECDSA P-384 with SHA-384").
func vcek() *ecdsa.PrivateKey {
	vcekOnce.Do(func() {
		for i := 0; ; i++ {
			d := sha512.Sum384(fmt.Appendf(nil, "%s #%d", VCEKLabel, i))
			if k, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d[:]); err == nil {
				vcekKey = k
				return
			}
		}
	})
	return vcekKey
}

// VCEKPublicKey returns the public half of the model's test VCEK.
func VCEKPublicKey() *ecdsa.PublicKey { return &vcek().PublicKey }

// TestVCEK is a Signer with the model's test VCEK and no certificate table:
// the host of the model hands out no certificates, so an extended report
// request completes as a plain one. The kernel's model-snp platform signs
// its reports with it.
type TestVCEK struct{}

// Sign implements Signer: ECDSA P-384 over SHA-384 of the report's signed
// part ([SNP-ABI] Table 22, bytes 0x000-0x29F).
func (TestVCEK) Sign(toSign []byte) (r, s *big.Int, err error) {
	h := sha512.Sum384(toSign)
	return ecdsa.Sign(rand.Reader, vcek(), h[:])
}

// CertTableBytes implements Signer: no certificates.
func (TestVCEK) CertTableBytes() ([]byte, error) { return nil, nil }

package tdx_test

import (
	"crypto/ecdsa"
	"math/big"
)

func ecdsaVerify(k *ecdsa.PublicKey, hash, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(k, hash, r, s)
}

func mustRaw(k *ecdsa.PublicKey) []byte {
	b, err := k.Bytes()
	if err != nil {
		panic(err)
	}
	return b[1:]
}

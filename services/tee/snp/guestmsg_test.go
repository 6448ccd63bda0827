package snp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"testing"
)

// TestSealKnownAnswer checks SealMessage against AES-256-GCM computed here
// from the layout in TEE-REFERENCE §2.10 (IV = seqno LE ‖ 0⁴, AAD = header
// bytes 0x30-0x5F), and against a fixed answer from another implementation.
func TestSealKnownAnswer(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	payload := []byte("aster guest message known answer")
	const seq = 0x1122334455667788

	hdr := make([]byte, 0x60)
	hdr[0x20], hdr[0x21], hdr[0x22], hdr[0x23] = 0x88, 0x77, 0x66, 0x55
	hdr[0x24], hdr[0x25], hdr[0x26], hdr[0x27] = 0x44, 0x33, 0x22, 0x11
	hdr[0x30], hdr[0x31], hdr[0x32] = 1, 1, 0x60
	hdr[0x34], hdr[0x35], hdr[0x36] = 5, 1, byte(len(payload))
	hdr[0x3C] = 0
	iv := []byte{0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0}
	blk, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(blk)
	want := gcm.Seal(nil, iv, payload, hdr[0x30:0x60])

	page := make([]byte, 4096)
	if err := SealMessage(page, key, seq, MsgReportReq, 1, 0, payload); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page[0x20:0x60], hdr[0x20:0x60]) {
		t.Errorf("header\n got %x\nwant %x", page[0x20:0x60], hdr[0x20:0x60])
	}
	if !bytes.Equal(page[0x60:0x60+len(payload)], want[:len(payload)]) {
		t.Errorf("ciphertext %x, want %x", page[0x60:0x60+len(payload)], want[:len(payload)])
	}
	if !bytes.Equal(page[:16], want[len(payload):]) || !bytes.Equal(page[16:32], make([]byte, 16)) {
		t.Errorf("tag %x, want %x", page[:32], want[len(payload):])
	}
	// Computed independently with Python's cryptography (OpenSSL) AESGCM
	// over the same key, IV, AAD and payload.
	const wantCT = "bf0c9dcc11b22d3c4bbf5144563a17b3477bea3baacb8a7b10e652521b490439"
	const wantTag = "57c0f6341ba3b2c92cf098488fde0527"
	if hex.EncodeToString(page[0x60:0x60+len(payload)]) != wantCT || hex.EncodeToString(page[:16]) != wantTag {
		t.Errorf("known answer: ct %x tag %x", page[0x60:0x60+len(payload)], page[:16])
	}
	h, pt, err := OpenMessage(page, key)
	if err != nil || !bytes.Equal(pt, payload) || h.Seqno != seq || h.Type != MsgReportReq {
		t.Fatalf("OpenMessage: %+v %q %v", h, pt, err)
	}
	// Every authenticated byte matters: tag, AAD, ciphertext.
	for _, off := range []int{0x00, 0x34, 0x3C, 0x20, 0x60} {
		bad := append([]byte(nil), page...)
		bad[off] ^= 1
		if _, _, err := OpenMessage(bad, key); !errors.Is(err, ErrMsg) {
			t.Errorf("flip at %#x: %v", off, err)
		}
	}
}

package tee

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/snp"
	"github.com/aster-cvm/aster/services/tee/tsm"
	"github.com/aster-cvm/aster/services/tee/tsm/tsmtest"
	"github.com/google/go-configfs-tsm/report"
)

func tsmClient(t *testing.T, p tsm.Provider) *tsmtest.Client {
	t.Helper()
	proc, err := tsmtest.Mount(tsm.New(p))
	if err != nil {
		t.Fatal(err)
	}
	return &tsmtest.Client{P: proc}
}

// certTable returns a certificate table of two entries (and the
// terminating zero one) with their certificates after it, as the host
// hands it in the extended guest request's buffer.
func certTable() []byte {
	b := make([]byte, 3*certEntrySize+300)
	le := binary.LittleEndian
	copy(b[0:16], "VCEK-guid-------")
	le.PutUint32(b[16:], 3*certEntrySize)
	le.PutUint32(b[20:], 200)
	copy(b[24:40], "ASK-guid--------")
	le.PutUint32(b[40:], 3*certEntrySize+200)
	le.PutUint32(b[44:], 100)
	for i := 3 * certEntrySize; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

// TestSNPReports: the sev_guest provider through the unmodified
// go-configfs-tsm client: the report carries the nonce and the VMPL,
// auxblob is the certificate table, and the device's sequence numbers are
// shared with /dev/sev-guest.
func TestSNPReports(t *testing.T) {
	f := newSEVFixture(t)
	f.psp.certs = certTable()
	c := tsmClient(t, f.dev.ReportProvider())
	var nonce [64]byte
	copy(nonce[:], "configfs nonce")
	resp, err := report.Get(c, &report.Request{InBlob: nonce[:], GetAuxBlob: true, Privilege: &report.Privilege{Level: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Provider != "sev_guest\n" {
		t.Errorf("provider %q", resp.Provider)
	}
	r, err := snp.ParseReport(resp.OutBlob)
	if err != nil || len(resp.OutBlob) != snp.ReportSize {
		t.Fatalf("outblob of %d bytes: %v", len(resp.OutBlob), err)
	}
	if r.ReportData != nonce || r.VMPL != 1 {
		t.Errorf("report data %x vmpl %d", r.ReportData[:8], r.VMPL)
	}
	if !bytes.Equal(resp.AuxBlob, certTable()) {
		t.Errorf("auxblob of %d bytes, want the %d-byte table", len(resp.AuxBlob), len(certTable()))
	}
	if f.psp.requests != 1 {
		t.Errorf("%d guest requests", f.psp.requests)
	}

	e, _ := c.MkdirTemp("/sys/kernel/config/tsm/report", "entry")
	if b, _ := c.ReadFile(e + "/privlevel_floor"); string(b) != "0\n" {
		t.Errorf("privlevel_floor %q", b)
	}
	// Linux needs exactly 64 bytes of user data.
	c.WriteFile(e+"/inblob", []byte("short"))
	if _, err := c.ReadFile(e + "/outblob"); !errors.Is(err, linux.EINVAL) {
		t.Errorf("short inblob: %v", err)
	}
	// No certificates from the host: an empty auxblob.
	f.psp.certs = nil
	c.WriteFile(e+"/inblob", nonce[:])
	if b, err := c.ReadFile(e + "/auxblob"); err != nil || len(b) != 0 {
		t.Errorf("auxblob without certificates: %d bytes, %v", len(b), err)
	}
	// A firmware error fails the request and disables the key, as on
	// /dev/sev-guest: EIO, then ENOTTY.
	f.psp.fwErr = 0x16
	c.WriteFile(e+"/inblob", nonce[:])
	if _, err := c.ReadFile(e + "/outblob"); !errors.Is(err, linux.EIO) {
		t.Errorf("firmware error: %v", err)
	}
	if _, err := c.ReadFile(e + "/outblob"); !errors.Is(err, linux.ENOTTY) {
		t.Errorf("after the key was disabled: %v", err)
	}
}

func TestCertTableSize(t *testing.T) {
	if n := certTableSize(certTable()); n != len(certTable()) {
		t.Errorf("table: %d", n)
	}
	if n := certTableSize(make([]byte, 4096)); n != 0 {
		t.Errorf("empty table: %d", n)
	}
	b := certTable()
	binary.LittleEndian.PutUint32(b[20:], 1<<30) // past the buffer
	if n := certTableSize(b); n != len(b) {
		t.Errorf("truncated table: %d", n)
	}
}

// TestTDXReports: the tdx_guest provider: outblob is the quote of a
// TDREPORT with the nonce; only generation, provider, inblob and outblob
// exist.
func TestTDXReports(t *testing.T) {
	td := &fakeTD{}
	c := tsmClient(t, NewTDXGuest(td).ReportProvider())
	var nonce [64]byte
	copy(nonce[:], "tdx nonce")
	resp, err := report.Get(c, &report.Request{InBlob: nonce[:]})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Provider != "tdx_guest\n" || !bytes.Equal(resp.OutBlob, append([]byte("QUOTE"), nonce[:8]...)) {
		t.Errorf("response %q %q", resp.Provider, resp.OutBlob)
	}
	if _, err := report.Get(c, &report.Request{InBlob: nonce[:], GetAuxBlob: true}); err == nil {
		t.Error("auxblob on TDX")
	}
	if _, err := report.Get(c, &report.Request{InBlob: nonce[:], Privilege: &report.Privilege{}}); err == nil {
		t.Error("privlevel on TDX")
	}
	// The client wraps errors with %v: compare their text.
	td.err = ErrTDXBusy
	if _, err := report.Get(c, &report.Request{InBlob: nonce[:]}); err == nil || !strings.HasSuffix(err.Error(), linux.EBUSY.Error()) {
		t.Errorf("busy TDX module: %v", err)
	}
	td.err, td.quoteErr = nil, errors.New("host refused")
	if _, err := report.Get(c, &report.Request{InBlob: nonce[:]}); err == nil || !strings.HasSuffix(err.Error(), linux.EIO.Error()) {
		t.Errorf("failed quote: %v", err)
	}
}

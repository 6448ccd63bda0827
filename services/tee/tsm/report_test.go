package tsm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tee/tsm/tsmtest"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/google/go-configfs-tsm/configfs/configfsi"
	"github.com/google/go-configfs-tsm/configfs/faketsm"
	"github.com/google/go-configfs-tsm/report"
)

// fakeProvider renders reports as go-configfs-tsm's faketsm does
// ("privlevel: N\ninblob: HEX", auxblob "auxblob", provider "fake"), so
// the same client scripts run against both. gate, if set, holds every
// generation until it is closed or sent to.
type fakeProvider struct {
	name   string
	floor  uint
	hidden []string
	gate   chan struct{}
	err    error

	mu    sync.Mutex
	calls int
	descs []Desc
}

func (f *fakeProvider) Name() string {
	if f.name == "" {
		return "fake"
	}
	return f.name
}
func (f *fakeProvider) PrivlevelFloor() uint { return f.floor }
func (f *fakeProvider) Visible(name string) bool {
	return name != AttrManifestBlob && !slices.Contains(f.hidden, name)
}

func (f *fakeProvider) Generate(d Desc) (Blobs, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.descs = append(f.descs, d)
	if f.err != nil {
		return Blobs{}, f.err
	}
	return Blobs{
		Out: fmt.Appendf(nil, "privlevel: %d\ninblob: %s", d.Privlevel, hex.EncodeToString(d.InBlob)),
		Aux: []byte("auxblob"),
	}, nil
}

func (f *fakeProvider) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func mount(t *testing.T, p Provider) *tsmtest.Client {
	t.Helper()
	proc, err := tsmtest.Mount(New(p))
	if err != nil {
		t.Fatal(err)
	}
	return &tsmtest.Client{P: proc}
}

const reportDir = configfsi.TsmPrefix + "/report"

func nonce(s string) []byte {
	b := make([]byte, 64)
	copy(b, s)
	return b
}

// errno returns the errno inside err, or 0.
func errno(err error) linux.Errno {
	var e linux.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// TestClientGet runs the unmodified go-configfs-tsm report package.
func TestClientGet(t *testing.T) {
	p := &fakeProvider{}
	c := mount(t, p)
	resp, err := report.Get(c, &report.Request{InBlob: nonce("hello"), GetAuxBlob: true, Privilege: &report.Privilege{Level: 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := "privlevel: 2\ninblob: " + hex.EncodeToString(nonce("hello"))
	if string(resp.OutBlob) != want || string(resp.AuxBlob) != "auxblob" || resp.Provider != "fake\n" {
		t.Fatalf("response %q %q %q", resp.OutBlob, resp.AuxBlob, resp.Provider)
	}
	if p.count() != 1 {
		t.Errorf("provider asked %d times for one generation", p.count())
	}
	// report.Get removed its entry.
	if _, err := c.ReadFile(reportDir + "/entry1/generation"); errno(err) != linux.ENOENT {
		t.Errorf("entry after Get: %v", err)
	}
}

// TestGenerations walks the state machine: writes count, reads generate
// once per generation, failed writes do not count.
func TestGenerations(t *testing.T) {
	p := &fakeProvider{floor: 1}
	c := mount(t, p)
	e, err := c.MkdirTemp(reportDir, "entry")
	if err != nil {
		t.Fatal(err)
	}
	gen := func(want string) {
		t.Helper()
		b, err := c.ReadFile(e + "/generation")
		if err != nil || string(b) != want {
			t.Fatalf("generation %q, %v; want %q", b, err, want)
		}
	}
	gen("0\n")
	if _, err := c.ReadFile(e + "/outblob"); errno(err) != linux.EINVAL {
		t.Fatalf("outblob before inblob: %v", err)
	}
	if err := c.WriteFile(e+"/inblob", nonce("a")); err != nil {
		t.Fatal(err)
	}
	gen("1\n")
	for _, bad := range []string{"0", "4", "x", "", "-1", "99999999999"} {
		if err := c.WriteFile(e+"/privlevel", []byte(bad)); err == nil {
			t.Errorf("privlevel %q accepted", bad)
		}
	}
	gen("1\n")
	// A write past 64 bytes fails with EFBIG, but as in Linux the open
	// file was written to: its release stores what it holds (nothing),
	// which counts and empties inblob (configfs_bin_write_iter sets
	// write_in_progress before the size check).
	if err := c.WriteFile(e+"/inblob", make([]byte, 65)); errno(err) != linux.EFBIG {
		t.Errorf("65-byte inblob: %v", err)
	}
	gen("2\n")
	if _, err := c.ReadFile(e + "/outblob"); errno(err) != linux.EINVAL {
		t.Fatalf("outblob after an emptied inblob: %v", err)
	}
	if err := c.WriteFile(e+"/inblob", nonce("a")); err != nil {
		t.Fatal(err)
	}
	gen("3\n")
	if err := c.WriteFile(e+"/privlevel", []byte("0x3\n")); err != nil {
		t.Fatal(err)
	}
	gen("4\n")
	out1, err := c.ReadFile(e + "/outblob")
	if err != nil {
		t.Fatal(err)
	}
	aux, err := c.ReadFile(e + "/auxblob")
	if err != nil || string(aux) != "auxblob" {
		t.Fatalf("auxblob %q %v", aux, err)
	}
	out2, _ := c.ReadFile(e + "/outblob")
	if !bytes.Equal(out1, out2) || p.count() != 1 {
		t.Fatalf("rereading one generation: %q %q, %d generations", out1, out2, p.count())
	}
	if !bytes.HasPrefix(out1, []byte("privlevel: 3\n")) {
		t.Errorf("outblob %q", out1)
	}
	if err := c.WriteFile(e+"/inblob", nonce("b")); err != nil {
		t.Fatal(err)
	}
	gen("5\n")
	out3, _ := c.ReadFile(e + "/outblob")
	if p.count() != 2 || !bytes.Contains(out3, []byte(hex.EncodeToString(nonce("b")))) {
		t.Errorf("after a new inblob: %q, %d generations", out3, p.count())
	}
	if err := c.RemoveAll(e); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadFile(e + "/generation"); errno(err) != linux.ENOENT {
		t.Errorf("removed entry: %v", err)
	}
}

// TestFaketsmDifferential runs one script against faketsm (the
// executable specification of go-configfs-tsm) and against the file
// system, and compares what each step returns.
func TestFaketsmDifferential(t *testing.T) {
	fake := &faketsm.Client{Subsystems: map[string]configfsi.Client{"report": faketsm.ReportV7(0)}}
	ours := mount(t, &fakeProvider{})
	type step struct {
		op, attr string
		data     []byte
	}
	script := []step{
		{"read", "generation", nil},
		{"read", "outblob", nil},
		{"write", "inblob", nonce("n1")},
		{"read", "generation", nil},
		{"write", "privlevel", []byte("2\n")},
		{"read", "generation", nil},
		{"read", "outblob", nil},
		{"read", "provider", nil},
		{"read", "auxblob", nil},
		{"write", "privlevel", []byte("4")},
		{"write", "privlevel", []byte("two")},
		{"read", "generation", nil},
		{"write", "inblob", []byte("short")},
		{"read", "generation", nil},
		{"read", "outblob", nil},
		{"write", "generation", []byte("7")},
		{"read", "generation", nil},
		{"rmdir", "", nil},
		{"read", "generation", nil},
	}
	run := func(c configfsi.Client) []string {
		e, err := c.MkdirTemp(reportDir, "entry")
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for _, s := range script {
			var b []byte
			var err error
			switch s.op {
			case "read":
				b, err = c.ReadFile(e + "/" + s.attr)
			case "write":
				err = c.WriteFile(e+"/"+s.attr, s.data)
			case "rmdir":
				err = c.RemoveAll(e)
			}
			log = append(log, fmt.Sprintf("%s %s: %q ok=%v", s.op, s.attr, b, err == nil))
		}
		return log
	}
	want, got := run(fake), run(ours)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("step %d: faketsm %s, aster %s", i, want[i], got[i])
		}
	}
	// And the whole client call, through both.
	req := &report.Request{InBlob: nonce("get"), GetAuxBlob: true, Privilege: &report.Privilege{Level: 1}}
	r1, err1 := report.Get(fake, req)
	r2, err2 := report.Get(ours, req)
	if err1 != nil || err2 != nil || !bytes.Equal(r1.OutBlob, r2.OutBlob) || !bytes.Equal(r1.AuxBlob, r2.AuxBlob) || r1.Provider != r2.Provider {
		t.Errorf("report.Get: faketsm %+v %v, aster %+v %v", r1, err1, r2, err2)
	}
}

// TestConcurrentReaders: readers of one generation wait for the one
// generation in progress and all get its blob.
func TestConcurrentReaders(t *testing.T) {
	p := &fakeProvider{gate: make(chan struct{})}
	c := mount(t, p)
	e, _ := c.MkdirTemp(reportDir, "entry")
	if err := c.WriteFile(e+"/inblob", nonce("same")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	outs := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if outs[i], err = c.ReadFile(e + "/outblob"); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(p.gate)
	wg.Wait()
	for i := range outs {
		if !bytes.Equal(outs[i], outs[0]) || len(outs[i]) == 0 {
			t.Fatalf("reader %d: %q, reader 0: %q", i, outs[i], outs[0])
		}
	}
	if p.count() != 1 {
		t.Errorf("%d generations for one inblob", p.count())
	}
}

// TestWriteDuringGeneration: as with Linux's tsm_rwsem, a write that
// comes while a report is being generated waits for it; the reader gets
// the report of the inblob it started with, and the generation tells the
// client it raced (go-configfs-tsm's GenerationErr).
func TestWriteDuringGeneration(t *testing.T) {
	p := &fakeProvider{gate: make(chan struct{})}
	c := mount(t, p)
	r, err := report.CreateOpenReport(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteOption("inblob", nonce("first")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		b   []byte
		err error
	}
	read := make(chan result)
	go func() {
		b, err := r.ReadOption("outblob")
		read <- result{b, err}
	}()
	time.Sleep(20 * time.Millisecond) // the reader is in Generate
	wrote := make(chan error)
	go func() {
		// Another writer on the same entry, as a second process would.
		wrote <- c.WriteFile(reportDir+"/entry1/inblob", nonce("second"))
	}()
	select {
	case err := <-wrote:
		t.Fatalf("write finished during the generation: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.gate <- struct{}{}
	res := <-read
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	// The reader has the report of the inblob it started with, or, if
	// the write landed before it read generation, a GenerationErr;
	// either way its next read tells it of the write.
	if res.err != nil {
		if ge := report.GetGenerationErr(res.err); ge == nil || ge.Got != 2 || ge.Want != 1 {
			t.Fatalf("read racing a write: %v", res.err)
		}
	} else if !bytes.Contains(res.b, []byte(hex.EncodeToString(nonce("first")))) {
		t.Fatalf("read racing a write: %q", res.b)
	}
	if _, err := r.ReadOption("provider"); report.GetGenerationErr(err) == nil {
		t.Fatalf("after the race: %v", err)
	}
	close(p.gate)
	if got := p.descs[0].InBlob; !bytes.Equal(got, nonce("first")) {
		t.Errorf("first generation for %q", got)
	}
	// The next read regenerates, for the second inblob.
	b, err := c.ReadFile(reportDir + "/entry1/outblob")
	if err != nil || !bytes.Contains(b, []byte(hex.EncodeToString(nonce("second")))) || p.count() != 2 {
		t.Errorf("after the race: %q %v (%d generations)", b, err, p.count())
	}
}

// TestGenerationWrap: a write that would bring the count onto the last
// read generation (modulo 2^64) is EBUSY until the report is read.
func TestGenerationWrap(t *testing.T) {
	p := &fakeProvider{}
	s := &subsystem{p: p}
	it, err := s.makeEntry("x")
	if err != nil {
		t.Fatal(err)
	}
	e := it.(*item).e
	e.desc.InBlob = nonce("x")
	e.readGen, e.writeGen = 5, 4
	if err := e.storeInBlob(nonce("y")); err != linux.EBUSY {
		t.Fatalf("write onto the read generation: %v", err)
	}
	if err := e.storePrivlevel([]byte("1")); err != linux.EBUSY {
		t.Fatalf("privlevel onto the read generation: %v", err)
	}
	if _, err := e.read(func(b *Blobs) []byte { return b.Out }); err != nil {
		t.Fatal(err)
	}
	if err := e.storeInBlob(nonce("y")); err != nil || e.writeGen != 5 {
		t.Fatalf("write after the read: %v, generation %d", err, e.writeGen)
	}
	e.readGen, e.writeGen = 0, ^uint64(0)
	if err := e.storeInBlob(nonce("z")); err != linux.EBUSY {
		t.Fatalf("wrap: %v", err)
	}
}

// TestProviderErrors: a failed generation returns the provider's errno
// (EIO for other errors) and is retried by the next read.
func TestProviderErrors(t *testing.T) {
	p := &fakeProvider{err: linux.ENOTTY}
	c := mount(t, p)
	e, _ := c.MkdirTemp(reportDir, "entry")
	c.WriteFile(e+"/inblob", nonce("x"))
	if _, err := c.ReadFile(e + "/outblob"); errno(err) != linux.ENOTTY {
		t.Fatalf("outblob: %v", err)
	}
	p.err = errors.New("something")
	if _, err := c.ReadFile(e + "/outblob"); errno(err) != linux.EIO {
		t.Fatalf("outblob: %v", err)
	}
	p.err = nil
	if _, err := c.ReadFile(e + "/outblob"); err != nil || p.count() != 3 {
		t.Fatalf("outblob: %v after %d generations", err, p.count())
	}
}

// TestVisibility: an entry shows what the provider makes visible (TDX's
// set here); mkdir without a provider is ENXIO.
func TestVisibility(t *testing.T) {
	p := &fakeProvider{name: "tdx_guest", hidden: []string{AttrAuxBlob, AttrPrivlevel, AttrPrivlevelFloor}}
	c := mount(t, p)
	e, err := c.MkdirTemp(reportDir, "entry")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.P.OpenFile(linux.AT_FDCWD, e, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	f.Inode().(vfs.Dir).ReadDir(0, func(d vfs.DirEntry) bool { names = append(names, d.Name); return true })
	f.DecRef()
	if want := []string{"generation", "provider", "inblob", "outblob"}; !slices.Equal(names, want) {
		t.Errorf("entry holds %v, want %v", names, want)
	}
	if _, err := c.ReadFile(e + "/auxblob"); errno(err) != linux.ENOENT {
		t.Errorf("auxblob: %v", err)
	}
	if b, _ := c.ReadFile(e + "/provider"); string(b) != "tdx_guest\n" {
		t.Errorf("provider %q", b)
	}

	none := mount(t, nil)
	if _, err := none.MkdirTemp(reportDir, "entry"); errno(err) != linux.ENXIO {
		t.Errorf("mkdir without a provider: %v", err)
	}
}

func TestKstrtouint(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "3\n": 3, "+2": 2, "0x1f": 31, "010": 8, "4294967295": 1<<32 - 1, "7\x00junk": 7} {
		if v, err := kstrtouint([]byte(in)); err != nil || v != want {
			t.Errorf("%q: %d %v, want %d", in, v, err, want)
		}
	}
	for in, want := range map[string]error{"": linux.EINVAL, "\n": linux.EINVAL, "-1": linux.EINVAL, "08": linux.EINVAL, "1 ": linux.EINVAL,
		"0x": linux.EINVAL, "3\n\n": linux.EINVAL, "4294967296": linux.ERANGE} {
		if _, err := kstrtouint([]byte(in)); err != want {
			t.Errorf("%q: %v, want %v", in, err, want)
		}
	}
}

// Package collateral fetches verification collateral (Intel PCS/PCCS TCB
// info, QE identity and CRLs; AMD KDS certificates and CRLs) over HTTPS
// with an on-disk cache, and enforces --offline.
//
// The cache matters twice: AMD's KDS rate-limits clients (see
// confidential-containers/trustee#456), and CI runs must be reproducible,
// so a cache filled once can be replayed with --offline. Entries are keyed
// by the SHA-256 of the URL and store the response headers too, because
// Intel PCS returns the signing chains of TCB info, QE identity and PCK CRL
// in headers (Intel SGX and TDX PCS API spec v4, "TCB-Info-Issuer-Chain").
package collateral

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ErrOffline is returned for a URL that is not cached when network access
// is forbidden.
var ErrOffline = errors.New("network access forbidden (--offline) and no cached copy")

// DefaultMaxAge is how long a cached response is used without asking the
// server again. PCS collateral is reissued daily to monthly; one day keeps
// CI runs fast without serving week-old CRLs.
const DefaultMaxAge = 24 * time.Hour

// maxBody bounds a response; the largest real collateral (a PCK CRL) is a
// few hundred KiB.
const maxBody = 16 << 20

// Fetcher performs cached HTTPS GETs.
type Fetcher struct {
	// Client is the HTTP client; nil means a client with a 30 s timeout.
	Client *http.Client
	// CacheDir holds cached responses; empty disables the cache.
	CacheDir string
	// Offline forbids network access: only cached responses are served,
	// whatever their age.
	Offline bool
	// MaxAge is the freshness lifetime of a cache entry; 0 means
	// DefaultMaxAge.
	MaxAge time.Duration
	// Now returns the current time for cache freshness; nil means
	// time.Now. It is the wall clock, not --at: freshness is about when we
	// fetched, validity (nextUpdate) is checked by the verifiers at --at.
	Now func() time.Time
}

// entry is one cached response on disk.
type entry struct {
	URL     string      `json:"url"`
	Fetched time.Time   `json:"fetched"`
	Header  http.Header `json:"header"`
	Body    []byte      `json:"body"`
}

// DefaultCacheDir returns $XDG_CACHE_HOME/astctl/collateral (or the
// platform equivalent), or "" when there is no user cache directory.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "astctl", "collateral")
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) path(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(f.CacheDir, hex.EncodeToString(sum[:16])+".json")
}

func (f *Fetcher) load(url string) (*entry, bool) {
	if f.CacheDir == "" {
		return nil, false
	}
	b, err := os.ReadFile(f.path(url))
	if err != nil {
		return nil, false
	}
	var e entry
	if json.Unmarshal(b, &e) != nil || e.URL != url {
		return nil, false
	}
	return &e, true
}

func (f *Fetcher) store(e *entry) {
	if f.CacheDir == "" {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	if os.MkdirAll(f.CacheDir, 0o755) != nil {
		return
	}
	// Write then rename so a concurrent reader never sees half a file.
	tmp, err := os.CreateTemp(f.CacheDir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), f.path(e.URL)) != nil {
		os.Remove(tmp.Name())
	}
}

// Get returns the headers and body of url, from the cache when fresh (or
// whenever offline), else from the network. A failed fetch falls back to
// a stale cached copy, so a PCS outage does not break a pipeline that ran
// before.
func (f *Fetcher) Get(ctx context.Context, url string) (http.Header, []byte, error) {
	cached, ok := f.load(url)
	maxAge := f.MaxAge
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if ok && (f.Offline || f.now().Sub(cached.Fetched) < maxAge) {
		return cached.Header, cached.Body, nil
	}
	if f.Offline {
		return nil, nil, fmt.Errorf("%s: %w", url, ErrOffline)
	}
	h, body, err := f.fetch(ctx, url)
	if err != nil {
		if ok {
			return cached.Header, cached.Body, nil
		}
		return nil, nil, err
	}
	f.store(&entry{URL: url, Fetched: f.now().UTC(), Header: h, Body: body})
	return h, body, nil
}

func (f *Fetcher) fetch(ctx context.Context, url string) (http.Header, []byte, error) {
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s: HTTP %s", url, resp.Status)
	}
	return resp.Header, body, nil
}

// SEVGetter adapts f to go-sev-guest's trust.HTTPSGetter and
// trust.ContextHTTPSGetter interfaces (body only).
type SEVGetter struct{ F *Fetcher }

// Get implements trust.HTTPSGetter.
func (g SEVGetter) Get(url string) ([]byte, error) {
	return g.GetContext(context.Background(), url)
}

// GetContext implements trust.ContextHTTPSGetter.
func (g SEVGetter) GetContext(ctx context.Context, url string) ([]byte, error) {
	_, b, err := g.F.Get(ctx, url)
	return b, err
}

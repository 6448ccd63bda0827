package collateral

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestFetcherCacheAndOffline(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("TCB-Info-Issuer-Chain", "chain")
		w.Write([]byte("body"))
	}))
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &Fetcher{CacheDir: dir, Now: func() time.Time { return now }}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		h, b, err := f.Get(ctx, srv.URL+"/x")
		if err != nil || string(b) != "body" || h.Get("TCB-Info-Issuer-Chain") != "chain" {
			t.Fatal(h, b, err)
		}
	}
	if hits != 1 {
		t.Errorf("%d hits, want 1 (second from cache)", hits)
	}
	// Stale: refetched.
	now = now.Add(48 * time.Hour)
	f.Get(ctx, srv.URL+"/x")
	if hits != 2 {
		t.Errorf("%d hits after expiry, want 2", hits)
	}
	srv.Close()
	// Server gone: the stale copy is served.
	now = now.Add(48 * time.Hour)
	if _, b, err := f.Get(ctx, srv.URL+"/x"); err != nil || string(b) != "body" {
		t.Errorf("stale fallback: %q %v", b, err)
	}
	off := &Fetcher{CacheDir: dir, Offline: true}
	if _, b, err := off.Get(ctx, srv.URL+"/x"); err != nil || string(b) != "body" {
		t.Errorf("offline cached: %q %v", b, err)
	}
	if _, _, err := off.Get(ctx, srv.URL+"/y"); !errors.Is(err, ErrOffline) {
		t.Errorf("offline uncached: %v", err)
	}
	if _, err := (SEVGetter{F: off}).Get(srv.URL + "/x"); err != nil {
		t.Error(err)
	}
}

func TestFetcherHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	f := &Fetcher{CacheDir: t.TempDir()}
	if _, _, err := f.Get(context.Background(), srv.URL+"/missing"); err == nil {
		t.Error("404 accepted")
	}
}

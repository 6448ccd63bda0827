package sev

import (
	"errors"
	"fmt"
	"sync"
)

// Guest request results in SW_EXITINFO2: bits 63:32 the hypervisor's
// error, bits 31:0 the firmware's ([GHCB] §4.1.8; Linux uapi
// SNP_GUEST_VMM_ERR_INVALID_LEN/BUSY).
const (
	VMMErrInvalidLen = 1
	VMMErrBusy       = 2
	// MsgPageSize is the size of a guest message page, request or
	// response ([SNP-ABI] §7.1 "Guest messages are one page").
	MsgPageSize = 4096
	// MaxCertsSize is the largest certificate buffer of an extended
	// request (Linux SEV_FW_BLOB_MAX_SIZE).
	MaxCertsSize = 0x4000
)

// ChannelConfig is what NewGuestChannel needs: private pages the frame
// allocated, which NewGuestChannel makes shared (the frame then maps them
// without the C-bit).
type ChannelConfig struct {
	// Req and Resp are one page each at ReqPA and RespPA.
	Req, Resp     []byte
	ReqPA, RespPA uint64
	// Certs (optional) is the extended-report certificate buffer at
	// CertsPA: whole pages, at most MaxCertsSize.
	Certs   []byte
	CertsPA uint64
}

// GuestChannel is the mechanism under SNP guest messages: the shared
// request, response and certificate pages and the guest-request NAE
// events. It neither encrypts nor checks messages: the message layer
// (services/tee/snp) does, over the bytes GuestRequest moves. Its methods
// are safe for concurrent use; requests are serialised.
type GuestChannel struct {
	p *Platform

	mu      sync.Mutex
	req     []byte // shared; protected by mu
	resp    []byte // shared; protected by mu
	certs   []byte // shared; protected by mu
	reqPA   uint64
	respPA  uint64
	certsPA uint64
}

// NewGuestChannel makes the channel's pages shared and returns the channel.
func (p *Platform) NewGuestChannel(cfg ChannelConfig) (*GuestChannel, error) {
	if len(cfg.Req) != MsgPageSize || len(cfg.Resp) != MsgPageSize {
		return nil, errors.New("sev: guest message pages must be 4 KiB")
	}
	if len(cfg.Certs)%MsgPageSize != 0 || len(cfg.Certs) > MaxCertsSize {
		return nil, fmt.Errorf("sev: certificate buffer of %d bytes", len(cfg.Certs))
	}
	for _, r := range []struct {
		pa uint64
		n  int
	}{{cfg.ReqPA, 1}, {cfg.RespPA, 1}, {cfg.CertsPA, len(cfg.Certs) / MsgPageSize}} {
		if r.n == 0 {
			continue
		}
		if err := p.ToShared(r.pa, r.n); err != nil {
			return nil, err
		}
	}
	return &GuestChannel{
		p: p, req: cfg.Req, resp: cfg.Resp, reqPA: cfg.ReqPA, respPA: cfg.RespPA,
		certs: cfg.Certs, certsPA: cfg.CertsPA,
	}, nil
}

// GuestRequest sends one guest message: req (a sealed message, at most a
// page) goes to the shared request page; the hypervisor passes it to the
// secure processor with NAE 0x80000011, or 0x80000012 if ext, offering the
// first len(certs) bytes (whole pages, at most MaxCertsSize) of the
// certificate buffer ([GHCB] §4.1.8; Linux snp_issue_guest_request). It
// returns SW_EXITINFO2, and for INVALID_LEN on an extended request RBX: the
// pages the hypervisor needs. When exitInfo2 is 0, resp (one page) holds a
// private copy of the response page and certs a copy of the certificate
// buffer; the caller checks both, since the host wrote them.
func (c *GuestChannel) GuestRequest(ext bool, req, resp, certs []byte) (exitInfo2, needPages uint64, err error) {
	if len(req) > MsgPageSize || len(resp) != MsgPageSize {
		return 0, 0, fmt.Errorf("sev: guest request of %d bytes, response buffer of %d", len(req), len(resp))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(certs)%MsgPageSize != 0 || len(certs) > len(c.certs) || (!ext && len(certs) != 0) {
		return 0, 0, fmt.Errorf("sev: certificate buffer of %d bytes (channel has %d)", len(certs), len(c.certs))
	}
	clear(c.req)
	copy(c.req, req)
	info2, rbx, err := c.p.guestRequest(ext, c.reqPA, c.respPA, c.certsPA, uint64(len(certs)/MsgPageSize))
	if err != nil || info2 != 0 {
		return info2, rbx, err
	}
	// One copy out of shared memory: what the caller checks is what it
	// uses.
	copy(resp, c.resp)
	copy(certs, c.certs)
	return 0, 0, nil
}

// guestRequest issues NAE 0x80000011 (or 0x80000012 with the certificate
// buffer in RAX and its pages in RBX) and returns SW_EXITINFO2 and, for
// INVALID_LEN, RBX.
func (p *Platform) guestRequest(ext bool, reqPA, respPA, certsPA, pages uint64) (info2, rbx uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.conn.g
	p.conn.begin()
	code := uint64(ExitGuestRequest)
	if ext {
		code = ExitExtGuestReq
		g.Set(FieldRAX, certsPA)
		g.Set(FieldRBX, pages)
	}
	if err := p.conn.exit(code, reqPA, respPA); err != nil {
		return 0, 0, err
	}
	info2 = g.Raw(FieldSWExitInfo2)
	if ext && info2>>32 == VMMErrInvalidLen {
		if rbx, err = g.Get(FieldRBX); err != nil {
			return 0, 0, err
		}
	}
	return info2, rbx, nil
}

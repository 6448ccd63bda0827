package snp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Secrets page layout ([SNP-ABI] §8.17.2.5 "Secrets page" / [GHCB] "Secret
// page layout"; Linux struct snp_secrets_page in asm/sev.h). The firmware
// installs it as a private page at launch; its GPA comes from the SEV-SNP
// CC blob (OVMF) or the boot parameters.
const (
	SecretsPageSize    = 4096
	secretsVersion     = 0x000
	secretsIMIEN       = 0x004
	secretsFMS         = 0x008
	secretsGOSVW       = 0x010
	secretsVMPCK0      = 0x020
	VMPCKSize          = 32
	secretsOSArea      = 0x0A0
	secretsOSSeqno     = 0x0A0 // 4 x u32, Linux struct secrets_os_area
	secretsOSAPJump    = 0x0B0
	secretsOSUsage     = 0x0E0
	secretsVMSATweak   = 0x100
	secretsSVSMBase    = 0x140
	secretsSVSMSize    = 0x148
	secretsSVSMCAA     = 0x150
	secretsSVSMMaxVer  = 0x158
	secretsSVSMVMPL    = 0x15C
	secretsTSCFactor   = 0x160
	secretsOSAreaSize  = 96
	secretsVMSATweakSz = 64
)

// OSArea is the part of the secrets page the guest OS owns (Linux struct
// secrets_os_area): it keeps the guest-message sequence numbers there.
type OSArea struct {
	MsgSeqno      [4]uint32 // last sequence number used with VMPCK0..3
	APJumpTablePA uint64
	GuestUsage    [32]byte
}

// Secrets is a parsed secrets page.
type Secrets struct {
	Version        uint32
	IMIEN          uint32
	FMS            uint32
	GOSVW          [16]byte
	VMPCK          [4][VMPCKSize]byte
	OS             OSArea
	VMSATweak      [secretsVMSATweakSz]byte
	SVSMBase       uint64
	SVSMSize       uint64
	SVSMCAA        uint64
	SVSMMaxVersion uint32
	SVSMGuestVMPL  uint8
	TSCFactor      uint32
}

// ErrSecrets is a page that is not a secrets page.
var ErrSecrets = errors.New("snp: bad secrets page")

// ParseSecrets parses a secrets page. Version 0 is rejected: the firmware
// writes a non-zero version ([SNP-ABI]: versions 2 and 3 are defined).
func ParseSecrets(b []byte) (*Secrets, error) {
	if len(b) != SecretsPageSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrSecrets, len(b))
	}
	le := binary.LittleEndian
	s := &Secrets{
		Version:        le.Uint32(b[secretsVersion:]),
		IMIEN:          le.Uint32(b[secretsIMIEN:]),
		FMS:            le.Uint32(b[secretsFMS:]),
		SVSMBase:       le.Uint64(b[secretsSVSMBase:]),
		SVSMSize:       le.Uint64(b[secretsSVSMSize:]),
		SVSMCAA:        le.Uint64(b[secretsSVSMCAA:]),
		SVSMMaxVersion: le.Uint32(b[secretsSVSMMaxVer:]),
		SVSMGuestVMPL:  b[secretsSVSMVMPL],
		TSCFactor:      le.Uint32(b[secretsTSCFactor:]),
	}
	if s.Version == 0 {
		return nil, fmt.Errorf("%w: version 0", ErrSecrets)
	}
	copy(s.GOSVW[:], b[secretsGOSVW:])
	for i := range s.VMPCK {
		copy(s.VMPCK[i][:], b[secretsVMPCK0+i*VMPCKSize:])
	}
	for i := range s.OS.MsgSeqno {
		s.OS.MsgSeqno[i] = le.Uint32(b[secretsOSSeqno+4*i:])
	}
	s.OS.APJumpTablePA = le.Uint64(b[secretsOSAPJump:])
	copy(s.OS.GuestUsage[:], b[secretsOSUsage:])
	copy(s.VMSATweak[:], b[secretsVMSATweak:])
	return s, nil
}

// Marshal encodes s as a secrets page (the model's firmware writes one).
func (s *Secrets) Marshal() []byte {
	b := make([]byte, SecretsPageSize)
	le := binary.LittleEndian
	le.PutUint32(b[secretsVersion:], s.Version)
	le.PutUint32(b[secretsIMIEN:], s.IMIEN)
	le.PutUint32(b[secretsFMS:], s.FMS)
	copy(b[secretsGOSVW:], s.GOSVW[:])
	for i := range s.VMPCK {
		copy(b[secretsVMPCK0+i*VMPCKSize:], s.VMPCK[i][:])
	}
	for i, n := range s.OS.MsgSeqno {
		le.PutUint32(b[secretsOSSeqno+4*i:], n)
	}
	le.PutUint64(b[secretsOSAPJump:], s.OS.APJumpTablePA)
	copy(b[secretsOSUsage:], s.OS.GuestUsage[:])
	copy(b[secretsVMSATweak:], s.VMSATweak[:])
	le.PutUint64(b[secretsSVSMBase:], s.SVSMBase)
	le.PutUint64(b[secretsSVSMSize:], s.SVSMSize)
	le.PutUint64(b[secretsSVSMCAA:], s.SVSMCAA)
	le.PutUint32(b[secretsSVSMMaxVer:], s.SVSMMaxVersion)
	b[secretsSVSMVMPL] = s.SVSMGuestVMPL
	le.PutUint32(b[secretsTSCFactor:], s.TSCFactor)
	return b
}

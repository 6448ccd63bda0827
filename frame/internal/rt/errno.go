package rt

// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h).
const (
	ePERM     = 1
	eNOENT    = 2
	eSRCH     = 3
	eINTR     = 4
	eBADF     = 9
	eAGAIN    = 11
	eNOMEM    = 12
	eFAULT    = 14
	eEXIST    = 17
	eNODEV    = 19
	eINVAL    = 22
	eMFILE    = 24
	eNOTTY    = 25
	eSPIPE    = 29
	eNOSYS    = 38
	eTIMEDOUT = 110
)

// errRet encodes -errno as a system call's RAX.
func errRet(e int) uint64 { return uint64(-int64(e)) }

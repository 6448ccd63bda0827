package rt

import (
	"math/bits"

	"github.com/aster-cvm/aster/frame/internal/arch"
)

// Clocks. The TSC is the clock source (calibrated against the PIT, whose
// input clock is fixed at 1.193182 MHz); the CMOS RTC gives the wall time
// once at boot; the local APIC timer, calibrated against the TSC, fires
// one-shot at the next deadline (armTimer) to expire timeouts, end time
// slices and poll the console.
const (
	// pollNs bounds how long the frame sleeps: the console is polled at
	// least this often.
	pollNs = 10_000_000
	// sliceNs is a thread's time slice when others are runnable.
	sliceNs = 10_000_000
	// minTimerNs keeps the timer from firing back to back.
	minTimerNs = 50_000
	timerVec   = 32
	spuriousVc = 255
	pitHz      = 1193182
)

var (
	tscHz      uint64
	tscMult    uint64 // ns = tsc * tscMult >> 32
	tscBase    uint64 // TSC at calibration
	wallBaseNs int64  // Unix time in ns at tscBase
	ticks      uint64

	x2apic    bool
	lapicBase uintptr // direct-map address of the xAPIC page
	apicPerMs uint64
)

// nanotime returns nanoseconds since calibration.
func nanotime() int64 {
	d := arch.Rdtsc() - tscBase
	hi, lo := bits.Mul64(d, tscMult)
	return int64(hi<<32 | lo>>32)
}

// walltime returns the Unix time in nanoseconds.
func walltime() int64 { return wallBaseNs + nanotime() }

// calibrateTSC measures the TSC against one-shots of PIT channel 2 (the
// gate and OUT2 are in port 0x61, as on every PC since the AT).
//
// On a loaded host the vCPU can be descheduled in the middle of a window,
// between the PIT's terminal count and the TSC read, and that window comes
// out long (seen here: 5.8 GHz for a 2.6 GHz TSC with four TCG guests on
// two cores). So each 2 ms window is kept only if no gap between two
// consecutive TSC reads exceeds a twentieth of it, and the median of five
// kept windows wins.
func calibrateTSC() {
	var kept [5]uint64
	n := 0
	var any [11]uint64
	for try := 0; try < len(any) && n < len(kept); try++ {
		ticks, clean := pitWindow(500)
		any[try] = ticks
		if clean {
			kept[n] = ticks
			n++
		}
	}
	w := kept[:n]
	if n == 0 {
		w = any[:]
	}
	for i := 1; i < len(w); i++ { // insertion sort: no allocation here
		for j := i; j > 0 && w[j] < w[j-1]; j-- {
			w[j], w[j-1] = w[j-1], w[j]
		}
	}
	tscHz = w[len(w)/2] * 500
	if tscHz == 0 {
		tscHz = 1e9 // unreachable on a PC; keep the clock moving
	}
	hi, lo := bits.Mul64(1e9, 1<<32)
	tscMult, _ = bits.Div64(hi, lo, tscHz)
	tscBase = arch.Rdtsc()
}

// pitWindow runs PIT channel 2 for 1/hz seconds and returns the TSC ticks
// it took, and whether the TSC reads around it were gap-free (see
// calibrateTSC).
func pitWindow(hz uint64) (ticks uint64, clean bool) {
	count := pitHz / hz
	ctl := arch.Inb(0x61)
	arch.Outb(0x61, ctl&^0x02|0x01) // speaker off, gate on
	arch.Outb(0x43, 0xb0)           // channel 2, lo/hi, mode 0
	before := arch.Rdtsc()
	arch.Outb(0x42, uint8(count))
	arch.Outb(0x42, uint8(count>>8))
	start := arch.Rdtsc()
	prev, maxGap := start, start-before
	for i := 0; i < 1<<28 && arch.Inb(0x61)&0x20 == 0; i++ {
		now := arch.Rdtsc()
		maxGap = max(maxGap, now-prev)
		prev = now
	}
	end := arch.Rdtsc()
	maxGap = max(maxGap, end-prev)
	arch.Outb(0x61, ctl)
	ticks = end - start
	return ticks, maxGap < ticks/20
}

// Local APIC registers (Intel SDM Vol. 3A §11.4.1, table 11-1); in x2APIC
// mode MSR 0x800 + offset/16 (§11.12.1.2).
const (
	lapicEOI     = 0xb0
	lapicSVR     = 0xf0
	lapicLVTT    = 0x320
	lapicInitCnt = 0x380
	lapicCurCnt  = 0x390
	lapicDivide  = 0x3e0
	lapicPhys    = 0xfee00000
)

func lapicWrite(reg uint32, v uint32) {
	if x2apic {
		arch.Wrmsr(0x800+reg/16, uint64(v))
		return
	}
	store32(lapicBase+uintptr(reg), v)
}

func lapicRead(reg uint32) uint32 {
	if x2apic {
		return uint32(arch.Rdmsr(0x800 + reg/16))
	}
	return load32(lapicBase + uintptr(reg))
}

// timerInit masks the legacy PICs, enables the local APIC (x2APIC where
// CPUID offers it), calibrates its timer and arms it.
func timerInit() {
	arch.Outb(0x21, 0xff)
	arch.Outb(0xa1, 0xff)
	_, _, ecx, _ := arch.Cpuid(1, 0)
	base := arch.Rdmsr(arch.MSRAPICBase)
	base |= 1 << 11 // global enable
	if ecx&arch.FeatX2APIC != 0 {
		x2apic = true
		base |= 1 << 10
	}
	arch.Wrmsr(arch.MSRAPICBase, base)
	lapicBase = phys(lapicPhys)
	lapicWrite(lapicSVR, 0x100|spuriousVc)
	lapicWrite(lapicDivide, 0x3) // divide by 16
	lapicWrite(lapicLVTT, 1<<16) // masked one-shot
	// Count the APIC timer over 2 ms of the (already calibrated) TSC.
	// Both are read back-to-back at the end and scaled by the TSC time
	// that really passed, so a descheduled vCPU cannot skew the rate.
	lapicWrite(lapicInitCnt, 0xffffffff)
	start := arch.Rdtsc()
	for arch.Rdtsc()-start < tscHz/500 {
	}
	elapsed := uint64(0xffffffff - lapicRead(lapicCurCnt))
	took := arch.Rdtsc() - start
	hi, lo := bits.Mul64(elapsed, tscHz)
	if hi < took*1000 {
		apicPerMs, _ = bits.Div64(hi, lo, took*1000)
	}
	if apicPerMs == 0 {
		apicPerMs = 1
	}
	lapicWrite(lapicLVTT, timerVec) // one-shot, armed by armTimer
	armTimer()
}

// armedAt is the nanotime the one-shot timer will fire at (0: unarmed).
var armedAt int64

// armTimer programs the one-shot local APIC timer for the earliest thing
// the frame must do: a thread's timeout, the end of the running thread's
// slice when another thread waits for the CPU, or the console poll. The
// frame is tickless: a periodic timer loses ticks whenever the host is
// slow to run the vCPU (TCG on a loaded machine), and every lost tick
// would delay a timeout.
func armTimer() {
	now := nanotime()
	next := now + pollNs
	for i := 1; i < threadsEnd; i++ {
		t := &threads[i]
		if t.state == tsBlocked && t.deadline != 0 && t.deadline < next {
			next = t.deadline
		}
	}
	if curIdx != 0 && otherRunnable() && sliceStart+sliceNs < next {
		next = sliceStart + sliceNs
	}
	if armedAt > now && armedAt <= next {
		return // already armed early enough
	}
	d := next - now
	if d < minTimerNs {
		d = minTimerNs
	}
	count := uint64(d) * apicPerMs / 1e6
	if count == 0 {
		count = 1
	}
	if count > 0xffffffff {
		count = 0xffffffff
	}
	armedAt = now + d
	lapicWrite(lapicInitCnt, uint32(count))
}

// lapicAck signals end of interrupt.
func lapicAck() { lapicWrite(lapicEOI, 0) }

// CMOS RTC (MC146818: index port 0x70, data 0x71).
func cmos(reg uint8) uint8 {
	arch.Outb(0x70, reg)
	return arch.Inb(0x71)
}

// readRTC returns the RTC's time as Unix seconds, reading until two reads
// agree so an update in progress cannot tear it.
func readRTC() int64 {
	var prev [6]uint8
	for try := 0; try < 10; try++ {
		for i := 0; i < 10000 && cmos(0x0a)&0x80 != 0; i++ {
		}
		cur := [6]uint8{cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09)}
		if cur == prev {
			break
		}
		prev = cur
	}
	regB := cmos(0x0b)
	v := prev
	if regB&0x04 == 0 { // BCD
		for i := range v {
			if i == 2 {
				pm := v[i] & 0x80
				v[i] = (v[i]&0x7f)>>4*10 + v[i]&0x0f | pm
				continue
			}
			v[i] = v[i]>>4*10 + v[i]&0x0f
		}
	}
	sec, min, hour, day, mon, year := int64(v[0]), int64(v[1]), int64(v[2]), int64(v[3]), int64(v[4]), int64(v[5])
	if regB&0x02 == 0 && hour&0x80 != 0 { // 12-hour mode, PM
		hour = (hour&0x7f)%12 + 12
	}
	year += 2000
	return daysFromCivil(year, mon, day)*86400 + hour*3600 + min*60 + sec
}

// daysFromCivil converts a proleptic Gregorian date to days since
// 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// RTCTime returns the current RTC time in Unix seconds (for the
// self-test's comparison of time.Now with the hardware clock).
func RTCTime() int64 {
	arch.Cli()
	defer arch.Sti()
	return readRTC()
}

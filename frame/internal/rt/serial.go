package rt

import "github.com/aster-cvm/aster/frame/internal/arch"

// The console is the 16550 UART at COM1 (I/O 0x3f8), the port QEMU's
// -serial and every cloud VMM's serial console provide.
const com1 = 0x3f8

// UART registers (offsets from the base port).
const (
	uartData = 0 // RBR/THR (DLL when DLAB=1)
	uartIER  = 1 // DLM when DLAB=1
	uartFCR  = 2
	uartLCR  = 3
	uartMCR  = 4
	uartLSR  = 5

	lsrDataReady = 0x01
	lsrTHREmpty  = 0x20
)

// serialInit programs 115200 8N1, interrupts off (the frame polls the
// receiver from the timer).
func serialInit() {
	// Input may be waiting already: the VMM feeds the receiver before the
	// guest runs. The FIFO control register is left alone: changing it
	// clears the receiver (QEMU's hw/char/serial.c does so whenever FE
	// toggles), which would drop those bytes; with the FIFOs off the VMM
	// holds further input back until each byte is read.
	serialPoll()
	arch.Outb(com1+uartIER, 0)
	arch.Outb(com1+uartLCR, 0x80) // DLAB
	arch.Outb(com1+uartData, 1)   // divisor 1: 115200 baud
	arch.Outb(com1+uartIER, 0)
	arch.Outb(com1+uartLCR, 0x03) // 8N1
	arch.Outb(com1+uartMCR, 0x03) // DTR, RTS
}

// serialPutc writes one byte, waiting for the transmitter.
func serialPutc(c byte) {
	for i := 0; i < 100000 && arch.Inb(com1+uartLSR)&lsrTHREmpty == 0; i++ {
		arch.Pause()
	}
	arch.Outb(com1+uartData, c)
}

// serialDrain waits until the UART has sent everything (LSR.TEMT), so a
// power-off right after a message does not cut it short.
func serialDrain() {
	for i := 0; i < 1000000 && arch.Inb(com1+uartLSR)&0x40 == 0; i++ {
		arch.Pause()
	}
}

// consoleWrite writes b to the console, turning "\n" into "\r\n" as a
// terminal's ONLCR would.
func consoleWrite(b []byte) {
	for _, c := range b {
		if c == '\n' {
			serialPutc('\r')
		}
		serialPutc(c)
	}
}

// serialPoll moves received bytes into the console input ring.
func serialPoll() bool {
	got := false
	for arch.Inb(com1+uartLSR)&lsrDataReady != 0 {
		c := arch.Inb(com1 + uartData)
		if rxLen < len(rxBuf) {
			rxBuf[(rxHead+rxLen)%len(rxBuf)] = c
			rxLen++
		}
		got = true
	}
	return got
}

// Console input ring, filled by serialPoll.
var (
	rxBuf  [4096]byte
	rxHead int
	rxLen  int
)

// rxTake copies buffered console input into b.
func rxTake(b []byte) int {
	n := 0
	for n < len(b) && rxLen > 0 {
		b[n] = rxBuf[rxHead]
		rxHead = (rxHead + 1) % len(rxBuf)
		rxLen--
		n++
	}
	return n
}

// print helpers for the frame's own messages: no allocation, no fmt.

func printStr(s string) { consoleWrite([]byte(s)) }

func printHex(v uint64) {
	var b [18]byte
	b[0], b[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		b[17-i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	consoleWrite(b[:])
}

// printHexShort prints v in hex without leading zeros.
func printHexShort(v uint64) {
	var b [18]byte
	i := len(b)
	for {
		i--
		b[i] = "0123456789abcdef"[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	i -= 2
	b[i], b[i+1] = '0', 'x'
	consoleWrite(b[i:])
}

func printDec(v uint64) {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	consoleWrite(b[i:])
}

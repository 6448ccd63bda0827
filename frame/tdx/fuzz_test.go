package tdx

import "testing"

// FuzzQuoteBuf: a quote returned from any buffer lies inside the buffer
// after the header and has the length out_len says.
func FuzzQuoteBuf(f *testing.F) {
	b := make([]byte, 64)
	QuoteBufHeader{Version: 1, InLen: 1024, OutLen: 8}.Put(b)
	f.Add(b)
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseQuoteBufHeader(b)
		q, qerr := QuoteFromBuf(b)
		if err != nil {
			if qerr == nil {
				t.Fatal("quote from a buffer without header")
			}
			return
		}
		if qerr == nil && (len(q) != int(h.OutLen) || len(q) == 0 || len(q) > len(b)-QuoteBufHeaderSize) {
			t.Fatalf("quote of %d bytes, out_len %d, buffer %d", len(q), h.OutLen, len(b))
		}
	})
}

// FuzzDecodeMMIO: the decoder never panics and what it accepts is
// self-consistent.
func FuzzDecodeMMIO(f *testing.F) {
	for _, s := range [][]byte{{0x8b, 0x07}, {0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}, {0x0f, 0xbe, 0x07}, {0x88, 0x27}, {0xf3, 0xa4}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		in, err := DecodeMMIO(code)
		if err != nil {
			return
		}
		if in.Len <= 0 || in.Len > 15 || in.Len > len(code) {
			t.Fatalf("length %d of %d bytes", in.Len, len(code))
		}
		switch in.Size {
		case 1, 2, 4, 8:
		default:
			t.Fatalf("size %d", in.Size)
		}
		if in.Kind != MMIOWriteImm && (in.Reg < 0 || in.Reg > 15) {
			t.Fatalf("reg %d", in.Reg)
		}
		var r Regs
		in.Complete(&r, ^uint64(0))
		_ = in.WriteValue(&r)
	})
}

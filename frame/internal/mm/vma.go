package mm

// Protection bits of an area, as mmap(2)'s PROT_* values.
const (
	ProtRead  = 0x1
	ProtWrite = 0x2
	ProtExec  = 0x4
)

// Area is one virtual memory area [Start, End) with one protection.
type Area struct {
	Start, End VirtAddr
	Prot       uint32
}

// MaxAreas bounds an AreaSet: areas live in a fixed array so the trap
// path never allocates.
const MaxAreas = 1024

// AreaSet is a sorted set of non-overlapping areas.
type AreaSet struct {
	n     int
	areas [MaxAreas]Area
}

// Len returns the number of areas.
func (s *AreaSet) Len() int { return s.n }

// At returns area i.
func (s *AreaSet) At(i int) Area { return s.areas[i] }

// Find returns the area containing va.
func (s *AreaSet) Find(va VirtAddr) (Area, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		m := (lo + hi) / 2
		a := s.areas[m]
		switch {
		case va < a.Start:
			hi = m
		case va >= a.End:
			lo = m + 1
		default:
			return a, true
		}
	}
	return Area{}, false
}

// Remove removes [start, end) from every area it overlaps, splitting areas
// as needed. ok is false if a split would exceed MaxAreas (nothing is
// changed then).
func (s *AreaSet) Remove(start, end VirtAddr) bool {
	if start >= end {
		return true
	}
	// An area strictly containing the range needs one more slot.
	for i := 0; i < s.n; i++ {
		a := s.areas[i]
		if a.Start < start && a.End > end {
			if s.n == MaxAreas {
				return false
			}
			copy(s.areas[i+2:s.n+1], s.areas[i+1:s.n])
			s.areas[i] = Area{a.Start, start, a.Prot}
			s.areas[i+1] = Area{end, a.End, a.Prot}
			s.n++
			return true
		}
	}
	w := 0
	for i := 0; i < s.n; i++ {
		a := s.areas[i]
		if a.End <= start || a.Start >= end {
			s.areas[w] = a
			w++
			continue
		}
		if a.Start < start {
			s.areas[w] = Area{a.Start, start, a.Prot}
			w++
		} else if a.End > end {
			s.areas[w] = Area{end, a.End, a.Prot}
			w++
		}
	}
	s.n = w
	return true
}

// Insert adds [start, end) with prot, replacing whatever overlapped it.
func (s *AreaSet) Insert(start, end VirtAddr, prot uint32) bool {
	if start >= end {
		return false
	}
	if !s.Remove(start, end) {
		return false
	}
	if s.n == MaxAreas {
		return false
	}
	i := 0
	for i < s.n && s.areas[i].Start < start {
		i++
	}
	copy(s.areas[i+1:s.n+1], s.areas[i:s.n])
	s.areas[i] = Area{start, end, prot}
	s.n++
	s.merge(i)
	return true
}

// merge joins area i with equal-protection neighbours that touch it.
func (s *AreaSet) merge(i int) {
	if i+1 < s.n && s.areas[i].End == s.areas[i+1].Start && s.areas[i].Prot == s.areas[i+1].Prot {
		s.areas[i].End = s.areas[i+1].End
		copy(s.areas[i+1:], s.areas[i+2:s.n])
		s.n--
	}
	if i > 0 && s.areas[i-1].End == s.areas[i].Start && s.areas[i-1].Prot == s.areas[i].Prot {
		s.areas[i-1].End = s.areas[i].End
		copy(s.areas[i:], s.areas[i+1:s.n])
		s.n--
	}
}

// FindFree returns the lowest address in [lo, hi) where size bytes fit
// without overlapping an area, preferring hint when that place is free.
func (s *AreaSet) FindFree(size uint64, hint, lo, hi VirtAddr) (VirtAddr, bool) {
	if size == 0 || hi <= lo || uint64(hi-lo) < size {
		return 0, false
	}
	if hint >= lo && uint64(hint)%PageSize == 0 && uint64(hi-hint) >= size && s.free(hint, hint+VirtAddr(size)) {
		return hint, true
	}
	cand := lo
	for i := 0; i < s.n; i++ {
		a := s.areas[i]
		if a.End <= cand {
			continue
		}
		if a.Start >= cand && uint64(a.Start-cand) >= size {
			break
		}
		cand = a.End
		if cand >= hi {
			return 0, false
		}
	}
	if uint64(hi-cand) < size {
		return 0, false
	}
	return cand, true
}

// free reports whether no area overlaps [start, end).
func (s *AreaSet) free(start, end VirtAddr) bool {
	for i := 0; i < s.n; i++ {
		a := s.areas[i]
		if a.Start < end && start < a.End {
			return false
		}
	}
	return true
}

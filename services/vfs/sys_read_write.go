package vfs

// Read implements read(2).
func (p *Proc) Read(fd int32, dst []byte) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Read(dst)
}

// Write implements write(2).
func (p *Proc) Write(fd int32, src []byte) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Write(src)
}

// Pread64 implements pread64(2).
func (p *Proc) Pread64(fd int32, dst []byte, off int64) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Pread(dst, off)
}

// Pwrite64 implements pwrite64(2).
func (p *Proc) Pwrite64(fd int32, src []byte, off int64) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Pwrite(src, off)
}

// Readv implements readv(2).
func (p *Proc) Readv(fd int32, bufs [][]byte) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Readv(bufs)
}

// Writev implements writev(2).
func (p *Proc) Writev(fd int32, bufs [][]byte) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Writev(bufs)
}

// Preadv implements preadv(2) and, with a non-negative offset,
// preadv2(2).
func (p *Proc) Preadv(fd int32, bufs [][]byte, off int64) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Preadv(bufs, off)
}

// Pwritev implements pwritev(2) and, with a non-negative offset,
// pwritev2(2).
func (p *Proc) Pwritev(fd int32, bufs [][]byte, off int64) (int, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Pwritev(bufs, off)
}

// Lseek implements lseek(2).
func (p *Proc) Lseek(fd int32, off int64, whence int) (int64, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return f.Seek(off, whence)
}

// Getdents64 implements getdents64(2): up to size bytes of
// linux_dirent64 records.
func (p *Proc) Getdents64(fd int32, size int) ([]byte, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	return f.Getdents(size)
}

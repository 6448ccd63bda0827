package initramfs

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Options tune Unpack.
type Options struct {
	// MaxBytes bounds the total file data written (0: no bound), so a
	// hostile or corrupt compressed archive cannot exhaust memory.
	MaxBytes int64
}

// Unpack extracts the archives in r into the directory dir of v (usually
// "/"). r holds one or more newc archives, each raw or gzip-compressed,
// separated by zero padding, as the kernel's initramfs buffer does.
// Names are taken relative to dir; ".." cannot leave it.
func Unpack(v *vfs.VFS, dir string, r io.Reader, opts *Options) error {
	if opts == nil {
		opts = &Options{}
	}
	p := vfs.NewProc(v)
	p.Umask(0)
	if err := p.Chroot(dir); err != nil {
		return fmt.Errorf("initramfs: %s: %w", dir, err)
	}
	if err := p.Chdir("/"); err != nil {
		return err
	}
	u := &unpacker{p: p, links: make(map[linkKey]string), budget: opts.MaxBytes}
	br := bufio.NewReader(r)
	archives := 0
	for {
		// Zero padding may sit between archives (buffer-format.rst).
		for {
			b, err := br.Peek(1)
			if err == io.EOF {
				if archives == 0 {
					return &FormatError{0, "empty archive"}
				}
				return u.finish()
			}
			if err != nil {
				return err
			}
			if b[0] != 0 {
				break
			}
			br.Discard(1)
		}
		magic, _ := br.Peek(2)
		if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			gz, err := gzip.NewReader(br)
			if err != nil {
				return fmt.Errorf("initramfs: gzip: %w", err)
			}
			gz.Multistream(false)
			if err := u.archive(NewReader(gz)); err != nil {
				return err
			}
			// The rest of the member is padding.
			if _, err := io.Copy(io.Discard, io.LimitReader(gz, 1<<20)); err != nil {
				return fmt.Errorf("initramfs: gzip: %w", err)
			}
		} else if err := u.archive(NewReader(br)); err != nil {
			return err
		}
		archives++
	}
}

type linkKey struct {
	major, minor, ino, ftype uint32
}

type dirTime struct {
	path  string
	mtime int64
}

type unpacker struct {
	p      *vfs.Proc
	links  map[linkKey]string // first name of each multiply-linked file
	dirs   []dirTime          // directory mtimes, set last
	budget int64
	used   int64
}

// archive unpacks one archive up to its trailer.
func (u *unpacker) archive(r *Reader) error {
	for {
		h, err := r.Next()
		if err == errTrailer {
			return r.finishEntry()
		}
		if err == io.EOF {
			return r.errorf("archive ends without %s", trailerName)
		}
		if err != nil {
			return err
		}
		if err := u.entry(r, h); err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				return err
			}
			return fmt.Errorf("initramfs: entry %q: %w", h.Name, err)
		}
	}
}

// cleanName turns an archive name into a path under the root: leading
// "/" and "./" go; "." and "" mean the root itself.
func cleanName(name string) string {
	for {
		switch {
		case strings.HasPrefix(name, "/"):
			name = name[1:]
		case strings.HasPrefix(name, "./"):
			name = name[2:]
		default:
			if name == "." {
				name = ""
			}
			return "/" + name
		}
	}
}

func (u *unpacker) entry(r *Reader, h *Header) error {
	path := cleanName(h.Name)
	p := u.p
	ftype := h.Mode & linux.S_IFMT
	perm := h.Mode & linux.S_IALLUGO
	mtime := [2]linux.Timespec{{Nsec: linux.UTIME_OMIT}, {Sec: int64(h.Mtime)}}
	switch ftype {
	case linux.S_IFDIR:
		if path != "/" {
			if err := p.Mkdirat(linux.AT_FDCWD, path, perm); err == linux.EEXIST {
				if st, err := p.Lstat(path); err != nil || st.Mode&linux.S_IFMT != linux.S_IFDIR {
					if err := u.replace(path); err != nil {
						return err
					}
					if err := p.Mkdirat(linux.AT_FDCWD, path, perm); err != nil {
						return err
					}
				}
			} else if err != nil {
				return err
			}
		}
		if err := u.setAttrs(path, h, false); err != nil {
			return err
		}
		u.dirs = append(u.dirs, dirTime{path, int64(h.Mtime)})
		return nil
	case linux.S_IFREG:
		return u.regular(r, h, path)
	case linux.S_IFLNK:
		if h.FileSize >= linux.PATH_MAX {
			return r.errorf("entry %q: symlink target of %d bytes", h.Name, h.FileSize)
		}
		target := make([]byte, h.FileSize)
		if _, err := io.ReadFull(r, target); err != nil {
			return err
		}
		if err := u.replace(path); err != nil {
			return err
		}
		if err := p.Symlinkat(string(target), linux.AT_FDCWD, path); err != nil {
			return err
		}
		if err := u.setAttrs(path, h, true); err != nil {
			return err
		}
		return p.Utimensat(linux.AT_FDCWD, path, &mtime, linux.AT_SYMLINK_NOFOLLOW)
	case linux.S_IFCHR, linux.S_IFBLK, linux.S_IFIFO, linux.S_IFSOCK:
		if err := u.replace(path); err != nil {
			return err
		}
		if err := p.Mknodat(linux.AT_FDCWD, path, ftype|perm, linux.MakeDev(h.RdevMajor, h.RdevMinor)); err != nil {
			return err
		}
		if err := u.setAttrs(path, h, false); err != nil {
			return err
		}
		return p.Utimensat(linux.AT_FDCWD, path, &mtime, 0)
	}
	return r.errorf("entry %q: unknown file type %#o", h.Name, ftype)
}

// replace removes what is at path so an entry can take its place
// (init/initramfs.c clean_path); a missing path is fine.
func (u *unpacker) replace(path string) error {
	st, err := u.p.Lstat(path)
	if err == linux.ENOENT {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&linux.S_IFMT == linux.S_IFDIR {
		return u.p.Unlinkat(linux.AT_FDCWD, path, linux.AT_REMOVEDIR)
	}
	return u.p.Unlinkat(linux.AT_FDCWD, path, 0)
}

// setAttrs applies owner and full mode (set-ID and sticky bits included).
func (u *unpacker) setAttrs(path string, h *Header, symlink bool) error {
	flags := uint32(0)
	if symlink {
		flags = linux.AT_SYMLINK_NOFOLLOW
	}
	if err := u.p.Fchownat(linux.AT_FDCWD, path, h.UID, h.GID, flags); err != nil {
		return err
	}
	if symlink {
		return nil
	}
	return u.p.Fchmodat2(linux.AT_FDCWD, path, h.Mode&linux.S_IALLUGO, 0)
}

// regular creates a regular file or, for a later name of a multiply
// linked inode, links it to the first name; data in the entry is written
// from offset 0 (init/initramfs.c maybe_link and do_name).
func (u *unpacker) regular(r *Reader, h *Header, path string) error {
	p := u.p
	flags := uint32(linux.O_WRONLY | linux.O_CREAT | linux.O_NOFOLLOW)
	linked := false
	if h.Nlink >= 2 {
		key := linkKey{h.DevMajor, h.DevMinor, h.Ino, linux.S_IFREG}
		if first, ok := u.links[key]; ok && first != path {
			if err := u.replace(path); err != nil {
				return err
			}
			if err := p.Linkat(linux.AT_FDCWD, first, linux.AT_FDCWD, path, 0); err != nil {
				return err
			}
			linked = true
		} else {
			u.links[key] = path
		}
	}
	if !linked {
		if err := u.replace(path); err != nil {
			return err
		}
		flags |= linux.O_TRUNC
	}
	fd, err := p.Openat(linux.AT_FDCWD, path, flags, h.Mode&0o777)
	if err != nil {
		return err
	}
	defer p.Close(fd)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			u.used += int64(n)
			if u.budget > 0 && u.used > u.budget {
				return r.errorf("more than %d bytes of file data", u.budget)
			}
			if _, werr := p.Write(fd, buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := u.setAttrs(path, h, false); err != nil {
		return err
	}
	mtime := [2]linux.Timespec{{Nsec: linux.UTIME_OMIT}, {Sec: int64(h.Mtime)}}
	return p.Utimensat(linux.AT_FDCWD, path, &mtime, 0)
}

// finish sets directory mtimes, deepest first, once nothing more will be
// added to them (init/initramfs.c dir_utime).
func (u *unpacker) finish() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		mtime := [2]linux.Timespec{{Nsec: linux.UTIME_OMIT}, {Sec: d.mtime}}
		if err := u.p.Utimensat(linux.AT_FDCWD, d.path, &mtime, 0); err != nil {
			return fmt.Errorf("initramfs: %s: %w", d.path, err)
		}
	}
	return nil
}

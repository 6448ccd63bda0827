package vfs

import (
	"strings"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Path resolution, after fs/namei.c and path_resolution(7).

// resolver walks paths for one system call. It counts the symbolic links
// followed across the whole lookup, as nameidata does, so that ELOOP comes
// after linux.MAXSYMLINKS of them.
type resolver struct {
	v     *VFS
	root  Location // the process root: ".." stops here, "/" starts here
	start Location // where relative paths start
	links int
	// caller is the process walking, for CallerSymlink (nil for the
	// kernel's own walks).
	caller *Proc
}

func (v *VFS) newResolver(root, start Location) *resolver {
	return &resolver{v: v, root: root, start: start}
}

// lastKind classifies the final component (fs/namei.c LAST_NORM & co.).
type lastKind int

const (
	lastNorm   lastKind = iota
	lastDot             // "."
	lastDotDot          // ".."
	lastRoot            // the path was "/" (or only slashes)
)

// parentPath is a path resolved up to its final component.
type parentPath struct {
	dir      Location
	name     string
	kind     lastKind
	trailing bool // the path ended in one or more slashes
}

// checkPath applies the checks the kernel makes when it copies a path in
// (fs/namei.c getname_flags): empty is ENOENT, PATH_MAX or longer is
// ENAMETOOLONG.
func checkPath(path string) error {
	if path == "" {
		return linux.ENOENT
	}
	if len(path) >= linux.PATH_MAX {
		return linux.ENAMETOOLONG
	}
	return nil
}

// walkParent resolves every component of path but the last, following
// symbolic links. Preconditions: v.mu held.
func (r *resolver) walkParent(start Location, path string) (parentPath, error) {
	if err := checkPath(path); err != nil {
		return parentPath{}, err
	}
	cur := start
	if path[0] == '/' {
		cur = r.root
	}
	rest := path
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return parentPath{dir: cur, kind: lastRoot, trailing: true}, nil
		}
		name, remainder := rest, ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name, remainder = rest[:i], rest[i:]
		}
		if strings.TrimLeft(remainder, "/") == "" {
			if !cur.d.isDir() {
				return parentPath{}, linux.ENOTDIR
			}
			kind := lastNorm
			switch name {
			case ".":
				kind = lastDot
			case "..":
				kind = lastDotDot
			}
			return parentPath{dir: cur, name: name, kind: kind, trailing: remainder != ""}, nil
		}
		next, err := r.step(cur, name)
		if err != nil {
			return parentPath{}, err
		}
		if next.d.fileType() == linux.S_IFLNK {
			if next, err = r.follow(next, cur); err != nil {
				return parentPath{}, err
			}
		}
		if !next.d.isDir() {
			return parentPath{}, linux.ENOTDIR
		}
		cur = next
		rest = remainder
	}
}

// step moves from the directory cur to its component name, crossing into
// mounts. Preconditions: v.mu held.
func (r *resolver) step(cur Location, name string) (Location, error) {
	switch name {
	case ".":
		return cur, nil
	case "..":
		return r.dotdot(cur), nil
	}
	if len(name) > linux.NAME_MAX {
		return Location{}, linux.ENAMETOOLONG
	}
	c, err := cur.d.child(name)
	if err != nil {
		return Location{}, err
	}
	return r.v.crossMounts(Location{cur.mnt, c}), nil
}

// dotdot is ".." from cur (fs/namei.c follow_dotdot): it never leaves the
// process root, and at a mount root it continues from the mount point.
func (r *resolver) dotdot(cur Location) Location {
	for {
		if cur == r.root {
			return cur
		}
		if cur.d != cur.mnt.root {
			if cur.d.parent == nil {
				return cur
			}
			return r.v.crossMounts(Location{cur.mnt, cur.d.parent})
		}
		if cur.mnt.parent == nil {
			return cur
		}
		cur = Location{cur.mnt.parent, cur.mnt.point}
	}
}

// crossMounts descends into whatever is mounted on l (fs/namei.c
// traverse_mounts). Preconditions: v.mu held.
func (v *VFS) crossMounts(l Location) Location {
	for l.d.mounts > 0 {
		m, ok := v.mounts[mountKey{l.mnt, l.d}]
		if !ok {
			break
		}
		l = Location{m, m.root}
	}
	return l
}

// follow resolves the symbolic link at link, found in directory dir.
// Preconditions: v.mu held.
func (r *resolver) follow(link, dir Location) (Location, error) {
	r.links++
	if r.links > linux.MAXSYMLINKS {
		return Location{}, linux.ELOOP
	}
	if _, ok := link.d.inode.(Symlink); !ok {
		return Location{}, linux.EINVAL
	}
	target := readlink(link.d.inode, r.caller)
	if target == "" {
		return Location{}, linux.ENOENT
	}
	return r.resolveFrom(dir, target, true)
}

// last looks up the final component of p. Preconditions: v.mu held.
func (r *resolver) last(p parentPath) (Location, error) {
	if p.kind == lastRoot {
		return p.dir, nil
	}
	return r.step(p.dir, p.name)
}

// resolveFrom resolves path from start; follow says whether a final
// symbolic link is followed (a trailing slash always follows it).
// Preconditions: v.mu held.
func (r *resolver) resolveFrom(start Location, path string, follow bool) (Location, error) {
	p, err := r.walkParent(start, path)
	if err != nil {
		return Location{}, err
	}
	return r.finish(p, follow)
}

// finish looks up the final component of p and follows it if asked.
func (r *resolver) finish(p parentPath, follow bool) (Location, error) {
	l, err := r.last(p)
	if err != nil {
		return Location{}, err
	}
	if (follow || p.trailing) && l.d.fileType() == linux.S_IFLNK {
		if l, err = r.follow(l, p.dir); err != nil {
			return Location{}, err
		}
	}
	if p.trailing && !l.d.isDir() {
		return Location{}, linux.ENOTDIR
	}
	return l, nil
}

// resolve resolves path from the resolver's start.
func (r *resolver) resolve(path string, follow bool) (Location, error) {
	return r.resolveFrom(r.start, path, follow)
}

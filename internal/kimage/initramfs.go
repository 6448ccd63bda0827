package kimage

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// InitramfsFile is the initramfs in a build output directory: a gzip-
// compressed cpio archive in the "newc" format, which QEMU's -initrd hands
// to the kernel as the first PVH module.
const InitramfsFile = "initramfs.cpio.gz"

// InitramfsRawFile is the uncompressed form (InitramfsOptions.Uncompressed),
// a plain newc archive, which Linux and Aster accept as well
// (Documentation/driver-api/early-userspace/buffer-format.rst). Under TCG
// the kernel inflates gzip at some 15 MB/s, so a 50 MB userland boots
// seconds faster uncompressed; under KVM the difference is small.
const InitramfsRawFile = "initramfs.cpio"

// Include puts a host file or directory into the initramfs (astctl build
// --include HOST:GUEST).
type Include struct {
	Host  string // a file or a directory (copied recursively) on the host
	Guest string // absolute, cleaned path in the image
}

// ParseInclude parses an --include value: HOST:GUEST, or a bare HOST for a
// file, which goes to /bin/BASENAME. GUEST must be absolute; a GUEST ending
// in "/" (including "/" itself) is a directory that receives a file under
// its own name. The host
// side is checked by PlanInitramfs, not here.
func ParseInclude(spec string) (Include, error) {
	host, guest, ok := cutLast(spec, ":")
	if !ok {
		if spec == "" {
			return Include{}, errors.New("--include: empty value (want HOST or HOST:GUEST)")
		}
		return Include{Host: spec}, nil
	}
	if host == "" {
		return Include{}, fmt.Errorf("--include %q: empty host path (want HOST:GUEST)", spec)
	}
	if guest == "" {
		return Include{}, fmt.Errorf("--include %q: empty guest path after ':' (want HOST:GUEST, GUEST absolute)", spec)
	}
	if !strings.HasPrefix(guest, "/") {
		return Include{}, fmt.Errorf("--include %q: guest path %q is not absolute (a host path with ':' needs an explicit guest path: HOST:/GUEST)", spec, guest)
	}
	if strings.ContainsRune(guest, 0) {
		return Include{}, fmt.Errorf("--include %q: guest path contains a NUL byte", spec)
	}
	if strings.HasSuffix(guest, "/") && guest != "/" {
		// Kept for PlanInitramfs: a file goes inside this directory.
		return Include{Host: host, Guest: path.Clean(guest) + "/"}, nil
	}
	return Include{Host: host, Guest: path.Clean(guest)}, nil
}

// cutLast splits s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// ParseInit splits an --init value into the init program's argv: words
// separated by blanks, where '...' and "..." group words with blanks in
// them and a backslash outside single quotes takes the next character
// literally (as a POSIX shell would, without expansions). argv[0] is the
// guest path of the program.
func ParseInit(s string) ([]string, error) {
	var (
		argv    []string
		word    strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		escaped bool
	)
	for _, c := range s {
		switch {
		case escaped:
			word.WriteRune(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				word.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, fmt.Errorf("--init %q: unterminated %c quote", s, quote)
	case escaped:
		return nil, fmt.Errorf("--init %q: ends with a backslash", s)
	}
	if inWord {
		argv = append(argv, word.String())
	}
	if len(argv) == 0 {
		return nil, errors.New("--init: empty value (want \"GUESTPATH ARGS...\")")
	}
	if !strings.HasPrefix(argv[0], "/") {
		return nil, fmt.Errorf("--init %q: program path %q is not absolute", s, argv[0])
	}
	return argv, nil
}

// InitCmdline renders argv as kernel command-line words:
// "init=PATH -- ARG1 ARG2". Linux passes the words after "--" to init as
// argv[1:] (Documentation/admin-guide/kernel-parameters.rst), and its
// parser (lib/cmdline.c, next_arg) treats "..." as one word and drops the
// quotes, so an argument with blanks is written in double quotes. A double
// quote inside an argument cannot be expressed and is refused, as is an
// argument with control characters.
func InitCmdline(argv []string) (string, error) {
	if len(argv) == 0 {
		return "", nil
	}
	words := make([]string, 0, len(argv)+1)
	for i, a := range argv {
		if strings.ContainsRune(a, '"') {
			return "", fmt.Errorf("init argument %q contains a double quote, which the kernel command line cannot carry", a)
		}
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return "", fmt.Errorf("init argument %q contains a control character", a)
		}
		if a == "" || strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		if i == 0 {
			words = append(words, "init="+a)
			if len(argv) > 1 {
				words = append(words, "--")
			}
			continue
		}
		words = append(words, a)
	}
	return strings.Join(words, " "), nil
}

// InitramfsOptions say what goes into an initramfs.
type InitramfsOptions struct {
	// Base is added first (BuildUserland's tree): an Include may replace
	// one of its files or symlinks (a program of your own at /init, say),
	// where two Includes may not collide.
	Base     []Include
	Includes []Include
	// Init is the init program's argv (see ParseInit); Init[0] must be an
	// executable file in the image. Empty: the kernel's default (/init).
	Init []string
	// Uncompressed writes InitramfsRawFile instead of InitramfsFile.
	Uncompressed bool
	// MTime is every entry's modification time (seconds since the epoch):
	// 0, or SOURCE_DATE_EPOCH (see SourceDateEpoch).
	MTime uint64
}

// Entry types in an initramfs.
const (
	TypeDir     = "dir"
	TypeFile    = "file"
	TypeSymlink = "symlink"
)

// InitramfsEntry is one member of the archive, as the manifest lists it.
type InitramfsEntry struct {
	Path string `json:"path"` // absolute guest path
	Type string `json:"type"` // TypeDir, TypeFile or TypeSymlink
	// Mode is the permission bits in octal ("0755"), with the setuid,
	// setgid and sticky bits when set.
	Mode   string `json:"mode"`
	Size   int64  `json:"size"`             // file bytes, or the symlink target's length
	SHA256 string `json:"sha256,omitempty"` // files only
	Target string `json:"target,omitempty"` // symlinks only
}

// Initramfs is the manifest's description of DIR/initramfs.cpio.gz.
type Initramfs struct {
	Path    string           `json:"path"` // relative to the output directory
	Size    int64            `json:"size"`
	SHA256  string           `json:"sha256"`
	SHA384  string           `json:"sha384"`
	Entries []InitramfsEntry `json:"entries"`
}

// output is the archive as a build output, for VerifyOutputs.
func (i *Initramfs) output() Output {
	return Output{Name: i.Path, Size: i.Size, SHA256: i.SHA256, SHA384: i.SHA384}
}

// plannedEntry is an archive member with its content.
type plannedEntry struct {
	InitramfsEntry
	perm     uint64 // permission bits of the cpio mode
	data     []byte // file content or symlink target
	from     string // host path, for messages; "" for implied directories
	explicit bool   // a directory that came from the host (not implied)
	base     bool   // from InitramfsOptions.Base: an Include may replace it
}

// InitramfsPlan is a checked initramfs, ready to write: every host file
// has been read, so writing it twice gives the same bytes.
type InitramfsPlan struct {
	entries []*plannedEntry // sorted by path: parents come first
	mtime   uint64
	init    []string
	raw     bool // no gzip
	// Warnings are problems that do not stop the build (dynamically
	// linked programs, no init program); the caller prints them.
	Warnings []string
}

// PlanInitramfs reads the included host files and checks the result:
// conflicting guest paths, unsupported file types and an --init that is
// not an executable file of the image are errors (the caller's input is
// wrong), dynamically linked programs only warnings.
//
// A symlink named on the command line is followed; symlinks inside an
// included directory are archived as symlinks, their targets unchanged
// (an absolute target names a guest path). Hard links become copies.
func PlanInitramfs(opts InitramfsOptions) (*InitramfsPlan, error) {
	p := &InitramfsPlan{mtime: opts.MTime, init: opts.Init, raw: opts.Uncompressed}
	byPath := map[string]*plannedEntry{}
	for _, inc := range opts.Base {
		if err := p.addInclude(byPath, inc, true); err != nil {
			return nil, err
		}
	}
	for _, inc := range opts.Includes {
		if err := p.addInclude(byPath, inc, false); err != nil {
			return nil, err
		}
	}
	for _, e := range byPath {
		p.entries = append(p.entries, e)
	}
	sort.Slice(p.entries, func(i, j int) bool { return p.entries[i].Path < p.entries[j].Path })
	if err := p.checkInit(byPath); err != nil {
		return nil, err
	}
	return p, nil
}

// addInclude adds one --include (or, with base, a Base tree) to byPath.
func (p *InitramfsPlan) addInclude(byPath map[string]*plannedEntry, inc Include, base bool) error {
	spec := inc.Host
	if inc.Guest != "" {
		spec += ":" + inc.Guest
	}
	root, err := filepath.EvalSymlinks(inc.Host)
	if err != nil {
		return fmt.Errorf("--include %s: %w", spec, unwrapPathError(err))
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("--include %s: %w", spec, unwrapPathError(err))
	}
	guest := inc.Guest
	switch {
	case guest == "" && fi.IsDir():
		return fmt.Errorf("--include %s: a directory needs a guest path (--include %s:/GUEST)", spec, inc.Host)
	case guest == "":
		guest = "/bin/" + filepath.Base(inc.Host)
	case strings.HasSuffix(guest, "/") && !fi.IsDir():
		guest += filepath.Base(inc.Host)
	case strings.HasSuffix(guest, "/"):
		guest = path.Clean(guest)
	}
	if !fi.IsDir() {
		return p.add(byPath, spec, guest, inc.Host, fi, base)
	}
	return filepath.WalkDir(root, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("--include %s: %w", spec, err)
		}
		rel, err := filepath.Rel(root, host)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("--include %s: %w", spec, err)
		}
		return p.add(byPath, spec, path.Join(guest, filepath.ToSlash(rel)), host, info, base)
	})
}

// unwrapPathError drops the *fs.PathError's operation ("lstat a.txt: no
// such file" reads worse than the path and the reason).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// add puts host (described by fi, not followed if a symlink) at guest,
// creating its parent directories. base marks entries of a Base tree.
func (p *InitramfsPlan) add(byPath map[string]*plannedEntry, spec, guest, host string, fi fs.FileInfo, base bool) error {
	if guest == "/" {
		return nil // the root exists; its mode is the kernel's
	}
	for dir := path.Dir(guest); dir != "/"; dir = path.Dir(dir) {
		if e, ok := byPath[dir]; ok {
			if e.Type != TypeDir {
				return fmt.Errorf("--include %s: %s needs %s to be a directory, but it is a %s from %s", spec, guest, dir, e.Type, e.from)
			}
			continue
		}
		byPath[dir] = &plannedEntry{InitramfsEntry: InitramfsEntry{Path: dir, Type: TypeDir, Mode: "0755"}, perm: 0o755}
	}
	e := &plannedEntry{InitramfsEntry: InitramfsEntry{Path: guest}, perm: uint64(unixPerm(fi.Mode())), from: host, base: base}
	if base {
		e.from = "the userland" // its host side is a temporary tree
	}
	switch mode := fi.Mode(); {
	case mode.IsDir():
		e.Type, e.explicit = TypeDir, true
	case mode.IsRegular():
		if fi.Size() > math.MaxUint32 {
			return fmt.Errorf("--include %s: %s has %d bytes; a newc archive holds files below 4 GiB", spec, host, fi.Size())
		}
		data, err := os.ReadFile(host)
		if err != nil {
			return fmt.Errorf("--include %s: %w", spec, unwrapPathError(err))
		}
		sum := sha256.Sum256(data)
		e.Type, e.data, e.Size, e.SHA256 = TypeFile, data, int64(len(data)), hex.EncodeToString(sum[:])
		if w := elfWarning(data); w != "" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s (from %s) %s", guest, host, w))
		}
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(host)
		if err != nil {
			return fmt.Errorf("--include %s: %w", spec, unwrapPathError(err))
		}
		e.Type, e.data, e.Size, e.Target, e.perm = TypeSymlink, []byte(target), int64(len(target)), target, 0o777
	default:
		return fmt.Errorf("--include %s: %s is a %s; only files, directories and symlinks go into an initramfs", spec, host, fileKind(mode))
	}
	e.Mode = fmt.Sprintf("%04o", e.perm)
	old, ok := byPath[guest]
	switch {
	case !ok:
		byPath[guest] = e
	case old.Type == TypeDir && e.Type == TypeDir:
		// Two includes may fill the same directory. The first host
		// directory sets its mode; implied parents are 0755.
		if !old.explicit {
			byPath[guest] = e
		}
	case old.base && !e.base && old.Type != TypeDir && e.Type != TypeDir:
		byPath[guest] = e // an Include replaces a Base file
	case old.from == "":
		return fmt.Errorf("--include %s: %s is a directory of the image (it holds other included files), not a %s", spec, guest, e.Type)
	default:
		return fmt.Errorf("--include %s: %s is included twice, from %s and from %s", spec, guest, old.from, host)
	}
	return nil
}

// unixPerm converts Go's permission and special bits to mode_t's 07777.
func unixPerm(m fs.FileMode) uint32 {
	perm := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		perm |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		perm |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	return perm
}

// fileKind names a file type that cannot be archived, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// elfWarning says why an ELF file will not run on Aster, or returns "" for
// static x86-64 programs, libraries and non-ELF files.
func elfWarning(data []byte) string {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return ""
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "" // not a well-formed ELF file: not our business here
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return ""
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Sprintf("is a %s %s program, not x86-64: Aster cannot run it", f.Class, f.Machine)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			interp, _ := io.ReadAll(io.LimitReader(prog.Open(), 4096))
			return fmt.Sprintf("is dynamically linked (interpreter %s): Aster runs only static programs for now", strings.TrimRight(string(interp), "\x00"))
		}
	}
	return ""
}

// checkInit checks that the init program is an executable file of the
// image (following symlinks inside the image), or warns when there is no
// init at all.
func (p *InitramfsPlan) checkInit(byPath map[string]*plannedEntry) error {
	if len(p.init) == 0 {
		if len(byPath) > 0 && byPath["/init"] == nil {
			p.Warnings = append(p.Warnings, "the initramfs has no /init and no --init names a program: the kernel will find nothing to run")
		}
		return nil
	}
	name := path.Clean(p.init[0])
	if len(byPath) == 0 {
		return fmt.Errorf("--init %s: the initramfs is empty (add the program with --include HOST:%s)", name, name)
	}
	e, err := resolve(byPath, name)
	if err != nil {
		return fmt.Errorf("--init %s: %w", name, err)
	}
	if e == nil {
		return fmt.Errorf("--init %s: not in the initramfs (add it with --include HOST:%s)", name, name)
	}
	if e.Type != TypeFile {
		return fmt.Errorf("--init %s: %s is a directory, not a program", name, e.Path)
	}
	if e.perm&0o111 == 0 {
		return fmt.Errorf("--init %s: %s is not executable (mode %s; chmod +x the host file %s)", name, e.Path, e.Mode, e.from)
	}
	return nil
}

// resolve looks name up in the image, following symlinks the way the
// kernel's path walk will. It returns nil when name does not exist.
func resolve(byPath map[string]*plannedEntry, name string) (*plannedEntry, error) {
	for hops := 0; hops < 40; hops++ { // Linux's MAXSYMLINKS
		// Symlinks among the parents.
		resolved := "/"
		rest := strings.Split(strings.TrimPrefix(name, "/"), "/")
		for i, elem := range rest {
			cur := path.Join(resolved, elem)
			e := byPath[cur]
			if e == nil {
				return nil, nil
			}
			if e.Type == TypeSymlink {
				target := e.Target
				if !path.IsAbs(target) {
					target = path.Join(resolved, target)
				}
				name = path.Join(append([]string{target}, rest[i+1:]...)...)
				break
			}
			if i == len(rest)-1 {
				return e, nil
			}
			resolved = cur
		}
	}
	return nil, errors.New("too many levels of symbolic links in the image")
}

// InitCmdline is the kernel command-line fragment that starts the plan's
// init program ("" when it has none); see InitCmdline.
func (p *InitramfsPlan) InitCmdline() (string, error) { return InitCmdline(p.init) }

// FileName is the archive's name in the output directory: InitramfsFile,
// or InitramfsRawFile when it is not compressed.
func (p *InitramfsPlan) FileName() string {
	if p.raw {
		return InitramfsRawFile
	}
	return InitramfsFile
}

// nopCloser adds a Close that does nothing to an io.Writer.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Write writes the archive to w: one newc record per entry in path order
// (parents first, as Linux's unpacker needs), inode numbers counted from
// 1, uid and gid 0, every mtime the plan's, then the trailer, all
// gzip-compressed unless the plan is Uncompressed. The same plan always
// gives the same bytes.
func (p *InitramfsPlan) Write(w io.Writer) ([]InitramfsEntry, error) {
	var zw io.WriteCloser = nopCloser{w}
	if !p.raw {
		zw = gzip.NewWriter(w) // no name, mtime 0: deterministic header
	}
	cw := cpio.Newc.Writer(zw)
	entries := make([]InitramfsEntry, 0, len(p.entries))
	for i, e := range p.entries {
		info := cpio.Info{
			Ino:   uint64(i + 1),
			NLink: 1,
			MTime: p.mtime,
			Name:  e.Path, // the writer drops the leading "/"
		}
		var rec cpio.Record
		switch e.Type {
		case TypeDir:
			info.Mode, info.NLink = cpio.S_IFDIR|e.perm, 2
			rec = cpio.Record{Info: info}
		case TypeFile:
			info.Mode = cpio.S_IFREG | e.perm
			rec = cpio.StaticRecord(e.data, info)
		case TypeSymlink:
			info.Mode = cpio.S_IFLNK | e.perm
			rec = cpio.StaticRecord(e.data, info)
		}
		if err := cw.WriteRecord(rec); err != nil {
			return nil, fmt.Errorf("writing %s to the initramfs: %w", e.Path, err)
		}
		entries = append(entries, e.InitramfsEntry)
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return entries, nil
}

// SourceDateEpoch returns $SOURCE_DATE_EPOCH
// (reproducible-builds.org/specs/source-date-epoch), or 0 when it is unset.
func SourceDateEpoch() (uint64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 32) // newc's mtime field is 32 bits
	if err != nil {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 as a decimal number below 2^32", s)
	}
	return v, nil
}

// writeInitramfs writes plan to dir/plan.FileName() and describes it.
func writeInitramfs(dir string, plan *InitramfsPlan) (*Initramfs, error) {
	var buf bytes.Buffer
	entries, err := plan.Write(&buf)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, plan.FileName()), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	out, err := describeFile(dir, plan.FileName())
	if err != nil {
		return nil, err
	}
	return &Initramfs{Path: out.Name, Size: out.Size, SHA256: out.SHA256, SHA384: out.SHA384, Entries: entries}, nil
}

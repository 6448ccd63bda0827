package task

import (
	"crypto/rand"
	"path"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/vfs"
)

func init() {
	register(59, "execve", sysExecve, Partial, "static ELF and #! scripts: no PT_INTERP")
	register(322, "execveat", sysExecveat, Partial, "flags 0 only")
}

// Bounds on execve's arguments (fs/exec.c, include/uapi/linux/binfmts.h).
const (
	// maxArgStrlen is MAX_ARG_STRLEN: one string, NUL included.
	maxArgStrlen = 32 * mm.PageSize
	// maxArgStrings is MAX_ARG_STRINGS.
	maxArgStrings = 0x7fffffff
)

// image is a program loaded into a fresh memory map, not yet running.
type image struct {
	mm  *mm.MM
	res *loader.Result
	exe string // the executable's path, for /proc/[pid]/exe
}

// loadImage opens file relative to dirfd (or the interpreter its "#!"
// line names: openExec) and loads it into a new memory map with the vDSO
// (bprm_execve and load_elf_binary): ENOENT and the other path errors from
// the walk, EACCES for what is not an executable regular file, ENOEXEC for
// what is not a static ELF program, E2BIG for arguments over the limit. On
// error nothing is left behind.
func (k *Kernel) loadImage(files *vfs.Proc, dirfd int32, file string, argv, envv []string, stackLimit uint64) (*image, error) {
	f, argv, err := openExec(files, dirfd, file, argv)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	as, err := k.Platform.NewAddressSpace()
	if err != nil {
		return nil, linux.ENOMEM
	}
	m := k.newMM(as)
	if stackLimit != 0 {
		m.SetStackLimit(stackLimit)
	}
	exe := files.PathOf(f.Location())
	cfg := &loader.Config{File: vfsFile{f}, Name: exe, Filename: file, Argv: argv, Envv: envv, HWCap: k.HWCap, StackLimit: stackLimit}
	if _, err := rand.Read(cfg.Random[:]); err != nil {
		k.Platform.Release(as)
		return nil, linux.EIO
	}
	if cfg.VDSO, err = mapVDSO(m); err != nil {
		k.Platform.Release(as)
		return nil, err
	}
	res, err := loader.Load(m, cfg)
	if err != nil {
		k.Platform.Release(as)
		return nil, err
	}
	return &image{mm: m, res: res, exe: exe}, nil
}

// readArgs reads a NULL-terminated array of string pointers (argv or envp;
// a NULL array is empty), keeping the total under limit bytes: E2BIG past
// it or past MAX_ARG_STRLEN for one string (copy_strings, fs/exec.c).
func (t *Task) readArgs(addr uint64, total *uint64, limit uint64) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := uint64(0); ; i++ {
		if i >= maxArgStrings {
			return nil, linux.E2BIG
		}
		p, err := t.readU64(addr + 8*i)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.readString(p, maxArgStrlen-1)
		if err == linux.ENAMETOOLONG {
			return nil, linux.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*total += uint64(len(s)) + 1 + 8 // the string and its pointer
		if *total > limit {
			return nil, linux.E2BIG
		}
		out = append(out, s)
	}
}

// sysExecve implements execve(2).
func sysExecve(t *Task, a Args) (uint64, error) {
	return t.execve(linux.AT_FDCWD, a[0], a[1], a[2], 0)
}

// sysExecveat implements execveat(2) without flags (no AT_EMPTY_PATH).
func sysExecveat(t *Task, a Args) (uint64, error) {
	return t.execve(a.Int(0), a[1], a[2], a[3], uint32(a[4]))
}

// execve replaces the calling process's program (do_execveat_common,
// fs/exec.c). The new image is loaded into a fresh memory map first, so a
// failure leaves the caller as it was; then the point of no return: the
// other threads end (de_thread), the caller takes the process ID as its
// thread ID, caught signals go back to their default (ignored ones stay
// ignored: flush_signal_handlers), the alternate signal stack goes,
// close-on-exec descriptors close, and a vfork parent resumes.
func (t *Task) execve(dirfd int32, pathp, argvp, envp uint64, flags uint32) (uint64, error) {
	if flags != 0 {
		return 0, linux.EINVAL
	}
	file, err := t.path(pathp)
	if err != nil {
		return 0, err
	}
	if file == "" {
		return 0, linux.ENOENT
	}
	tg := t.tg
	stackLimit := tg.mm.StackLimit()
	limit := min(uint64(mm.DefaultStackLimit)/4*3, stackLimit/4)
	var total uint64
	argv, err := t.readArgs(argvp, &total, limit)
	if err != nil {
		return 0, err
	}
	envv, err := t.readArgs(envp, &total, limit)
	if err != nil {
		return 0, err
	}
	img, err := t.k.loadImage(tg.files, dirfd, file, argv, envv, stackLimit)
	if err != nil {
		return 0, err
	}
	if !t.deThread() {
		t.k.Platform.Release(img.mm.AddressSpace())
		return 0, errNoReturn // the process is dying anyway
	}
	t.flushOld(img, file)
	return 0, errNoReturn
}

// deThread ends every other thread of the process and makes t its leader
// (de_thread, fs/exec.c). It returns false if the process is exiting, or
// another thread is already exec'ing (which kills t).
func (t *Task) deThread() bool {
	tg := t.tg
	tg.mu.Lock()
	if tg.exiting || tg.execing {
		tg.mu.Unlock()
		return false
	}
	tg.execing = true
	var others []*Task
	for _, o := range tg.tasks {
		if o != t {
			others = append(others, o)
		}
	}
	tg.mu.Unlock()
	for _, o := range others {
		o.exiting.Store(true)
		o.kick()
	}
	for _, o := range others {
		<-o.done
	}
	if t.exiting.Load() {
		return false
	}
	if t.tid != tg.tgid {
		// The leader is gone; t takes over its ID (exchange_tids).
		t.k.mu.Lock()
		delete(t.k.tasks, t.tid)
		t.k.tasks[tg.tgid] = t
		t.k.mu.Unlock()
		tg.mu.Lock()
		delete(tg.tasks, t.tid)
		tg.tasks[tg.tgid] = t
		tg.mu.Unlock()
		t.tid = tg.tgid
	}
	return true
}

// flushOld switches the process to img (begin_new_exec, setup_new_exec,
// start_thread).
func (t *Task) flushOld(img *image, file string) {
	tg, k := t.tg, t.k
	old := tg.mm
	t.releaseFutexes(old) // exec_mm_release, as at exit
	ctx := k.Platform.NewContext(img.mm.AddressSpace())
	*ctx.Regs() = Regs{RIP: img.res.Entry, RSP: img.res.SP, RFLAGS: 0x202}
	t.mu.Lock()
	t.ctx = ctx
	t.altSP, t.altSize = 0, 0
	t.hasSaved = false
	t.mu.Unlock()

	tg.mu.Lock()
	tg.mm = img.mm
	img.mm.SetASLimit(tg.rlimits[rlimitAS].cur) // limits survive exec
	// A table shared with other processes (CLONE_SIGHAND) is copied
	// first (unshare_sighand, fs/exec.c); then handlers go back to the
	// default and ignored signals stay ignored (flush_signal_handlers).
	actions := tg.sigHand().snapshot()
	for sig := range actions {
		h := actions[sig].Handler
		if h != linux.SIG_IGN {
			h = linux.SIG_DFL
		}
		actions[sig] = SigAction{Handler: h}
	}
	tg.sighand.Store(&sigHand{actions: actions})
	name := path.Base(file)
	if len(name) > 15 { // TASK_COMM_LEN - 1
		name = name[:15]
	}
	tg.name = name
	tg.proc.exe, tg.proc.layout = img.exe, *img.res
	tg.execing = false
	tg.mu.Unlock()

	k.treeMu.Lock()
	tg.execed = true
	k.treeMu.Unlock()
	// A table shared with another process (CLONE_FILES) is copied
	// before close-on-exec applies (begin_new_exec: unshare_files).
	tg.files.FDs = tg.files.FDs.Unshare()
	tg.files.FDs.Exec()
	tg.deleteTimers() // exec deletes POSIX timers (exit_itimers)
	tg.releaseVfork()
	// A vfork child leaves its parent's memory untouched (exec_mmap's
	// mmput): only the last user releases it.
	if old.Unshare() {
		k.Platform.Release(old.AddressSpace())
	}
}

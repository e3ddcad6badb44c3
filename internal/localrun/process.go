package localrun

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// drainTimeout bounds how long Stop waits for the last output after the
// process ended; a grandchild holding the pipe open must not hang the stop.
const drainTimeout = 2 * time.Second

// Options describe a child process.
type Options struct {
	// Name is used in error messages, for example "emulator".
	Name string
	// Path is the binary; Args are its arguments (without the binary).
	Path string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// Prefix starts every output line written to Output, for example
	// "[emulator] ", so interleaved logs stay readable.
	Prefix string
	// Output receives the prefixed lines (stdout and stderr merged, in
	// order). Share one SyncWriter between processes so lines never mix.
	Output io.Writer
	// LogFile, when set, also receives every line without the prefix.
	LogFile string
}

// Process is a started child in its own process group.
type Process struct {
	opts    Options
	cmd     *exec.Cmd
	lines   *Lines
	done    chan struct{} // closed when the process has exited
	drained chan struct{} // closed when its output reached EOF
	reader  *os.File
	waitErr error
}

// Start starts the process. The child gets its own process group, so a
// terminal's Ctrl-C reaches only the caller, which then stops children in
// order, and Stop can signal everything the child itself started. The
// kernel sends the child SIGTERM if the caller dies without stopping it
// (even by SIGKILL), so no child outlives the caller.
func Start(opts Options) (*Process, error) {
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("cannot create output pipe for %s: %w", opts.Name, err)
	}
	var logFile *os.File
	if opts.LogFile != "" {
		if logFile, err = os.Create(opts.LogFile); err != nil {
			r.Close()
			w.Close()
			return nil, fmt.Errorf("cannot create log file for %s: %w", opts.Name, err)
		}
	}

	cmd := exec.Command(opts.Path, opts.Args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		if logFile != nil {
			logFile.Close()
		}
		return nil, fmt.Errorf("cannot start %s (%s): %w", opts.Name, opts.Path, err)
	}
	// The child holds its own copy of the write end; closing ours makes the
	// reader see EOF once the child (and anything it started) is gone.
	w.Close()

	p := &Process{
		opts:    opts,
		cmd:     cmd,
		lines:   NewLines(),
		done:    make(chan struct{}),
		drained: make(chan struct{}),
		reader:  r,
	}
	if opts.LogFile != "" {
		registerLog(opts.LogFile)
	}
	go p.copyOutput(logFile)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *Process) copyOutput(logFile *os.File) {
	defer close(p.drained)
	defer p.lines.Close()
	if logFile != nil {
		defer logFile.Close()
	}
	br := bufio.NewReader(p.reader)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimRight(line, "\r\n")
			// One Write per line keeps lines whole on a shared SyncWriter.
			_, _ = io.WriteString(p.opts.Output, p.opts.Prefix+line+"\n")
			if logFile != nil {
				_, _ = io.WriteString(logFile, line+"\n")
			}
			p.lines.Add(line)
		}
		if err != nil {
			return
		}
	}
}

// Pid is the child's process ID, which is also its process group ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Name is the name given in Options.
func (p *Process) Name() string { return p.opts.Name }

// Lines is the child's output, line by line, for waiting on a log line.
func (p *Process) Lines() *Lines { return p.lines }

// Done is closed when the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the child's exit error (nil for exit status 0); valid after Done.
func (p *Process) Err() error {
	<-p.done
	return p.waitErr
}

// Wait waits until the child has exited and its output was read to the
// end (a grandchild holding the pipe open delays that by at most two
// seconds), so Lines holds everything it printed; it returns Err.
func (p *Process) Wait() error {
	<-p.done
	select {
	case <-p.drained:
	case <-time.After(drainTimeout):
	}
	return p.waitErr
}

// ErrKilled is returned by Stop when the child ignored SIGTERM for the
// whole grace period and was killed.
var ErrKilled = errors.New("did not stop within the grace period and was killed")

// Stop sends SIGTERM to the child's process group, waits up to grace for the
// child to exit, then sends SIGKILL. Whatever else is left in the group is
// killed too, so nothing the child started survives it. Stopping a child
// that already exited is a no-op.
func (p *Process) Stop(grace time.Duration) error {
	pgid := p.cmd.Process.Pid
	var stopErr error
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
			stopErr = fmt.Errorf("%s %w", p.opts.Name, ErrKilled)
		}
	}
	// A process group ID is not reused while any member lives, so this
	// reaches only leftovers of this child; ESRCH means there are none.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.drained:
	case <-time.After(drainTimeout):
		p.reader.Close()
		<-p.drained
	}
	return stopErr
}

// SyncWriter serialises writes from several goroutines to one writer, so
// that lines from different children never interleave mid-line.
type SyncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewSyncWriter wraps w.
func NewSyncWriter(w io.Writer) *SyncWriter { return &SyncWriter{w: w} }

// Write writes p as one unit.
func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var (
	logMu    sync.Mutex
	logFiles []string
)

func registerLog(path string) {
	logMu.Lock()
	defer logMu.Unlock()
	logFiles = append(logFiles, path)
}

// LogFiles lists the log file of every process Start started in this
// program, in start order, so a test can search every line any of them
// ever wrote.
func LogFiles() []string {
	logMu.Lock()
	defer logMu.Unlock()
	return append([]string(nil), logFiles...)
}

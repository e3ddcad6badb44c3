// Package utils helps the end-to-end tests drive the stack as a person
// would: start run-local, run the real kubectl, and prove through /proc that
// nothing is left running afterwards.
package utils

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc identifies one process. The start time tells a live process from a
// later one that reuses its PID.
type Proc struct {
	Pid, PPid int
	StartTime uint64 // clock ticks since boot, /proc/PID/stat field 22
	Cmdline   string // arguments joined by spaces
}

func (p Proc) String() string { return fmt.Sprintf("%d %s", p.Pid, p.Cmdline) }

// Processes lists every process this user can see.
func Processes() ([]Proc, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// readProc reads one process; ok is false when it is gone or a zombie (a
// zombie has exited and only waits for its parent to reap it).
func readProc(pid int) (Proc, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Proc{}, false
	}
	// The command name in parentheses may hold spaces and parentheses, so
	// the fields are counted from the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return Proc{}, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22.
	if len(fields) < 20 || fields[0] == "Z" {
		return Proc{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	start, _ := strconv.ParseUint(fields[19], 10, 64)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return Proc{
		Pid:       pid,
		PPid:      ppid,
		StartTime: start,
		Cmdline:   strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))),
	}, true
}

// Descendants lists every live process below pid (children, their
// children, and so on). Children that run in their own process groups are
// still found, because the tree follows parent PIDs.
func Descendants(pid int) ([]Proc, error) {
	all, err := Processes()
	if err != nil {
		return nil, err
	}
	children := map[int][]Proc{}
	for _, p := range all {
		children[p.PPid] = append(children[p.PPid], p)
	}
	var out []Proc
	queue := []int{pid}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			out = append(out, c)
			queue = append(queue, c.Pid)
		}
	}
	return out, nil
}

// StillRunning returns those of procs that are still alive (same PID and
// start time).
func StillRunning(procs []Proc) []Proc {
	var out []Proc
	for _, p := range procs {
		if cur, ok := readProc(p.Pid); ok && cur.StartTime == p.StartTime {
			out = append(out, cur)
		}
	}
	return out
}

// Mentioning returns the live processes whose command line contains s.
func Mentioning(s string) ([]Proc, error) {
	all, err := Processes()
	if err != nil {
		return nil, err
	}
	var out []Proc
	for _, p := range all {
		if p.Pid != os.Getpid() && strings.Contains(p.Cmdline, s) {
			out = append(out, p)
		}
	}
	return out, nil
}

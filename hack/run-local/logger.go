package main

import (
	"fmt"
	"io"
	"strings"
)

// logger writes run-local's own lines with a prefix, each in one Write on
// the console shared with the children, so lines never interleave.
type logger struct {
	w      io.Writer
	prefix string
}

func newLogger(w io.Writer, prefix string) *logger { return &logger{w: w, prefix: prefix} }

func (l *logger) Printf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	_, _ = io.WriteString(l.w, l.prefix+strings.ReplaceAll(msg, "\n", "\n"+l.prefix)+"\n")
}

// Plain writes text without the prefix (the banner and the ready line).
func (l *logger) Plain(text string) {
	_, _ = io.WriteString(l.w, text)
}

// Write lets other loggers (envtest's) print through this one, line by line.
func (l *logger) Write(p []byte) (int, error) {
	l.Printf("%s", p)
	return len(p), nil
}

package localrun

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// FreePort returns a TCP port on host that was free a moment ago. Another
// process may take it before the caller binds it; prefer letting the child
// bind port 0 and reading the address from its log where the child allows.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortInUseError says a fixed port is taken. Its message names the port and
// the flag that chooses another, because that is what the person needs.
type PortInUseError struct {
	Addr string // host:port
	What string // what wanted the port, e.g. "the SDRS emulator"
	Flag string // the flag that picks another port, e.g. "--sdrs-port"
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %s (for %s) is already in use, perhaps by another run-local; "+
		"stop that process or choose another port with %s=PORT (0 picks a free one)", e.Addr, e.What, e.Flag)
}

// CheckPortFree returns a *PortInUseError when host:port cannot be bound.
// Port 0 is always free.
func CheckPortFree(host string, port int, what, flag string) error {
	if port == 0 {
		return nil
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &PortInUseError{Addr: addr, What: what, Flag: flag}
		}
		return fmt.Errorf("cannot bind %s for %s: %w", addr, what, err)
	}
	return l.Close()
}

// Package localport picks TCP ports on 127.0.0.1 for the local runtime's own
// servers (PostgreSQL, NATS), preferring the port used last time so that
// URLs handed out before a restart stay valid.
package localport

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// Sticky returns the port recorded in file when it is free, else a free port
// that it records in file for next time.
func Sticky(file string) (int, error) {
	if b, err := os.ReadFile(file); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && Free(p) {
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p, os.WriteFile(file, []byte(strconv.Itoa(p)+"\n"), 0o644)
}

// Free reports whether port p on 127.0.0.1 can be listened on now.
func Free(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

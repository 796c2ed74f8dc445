package zfapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Run is every command's main: parse reads the command line (flag.ErrHelp exits 0, any other
// error is a usage error: exit 2), then exec runs until done or until stop is set — by the
// caller (tests), or, when stop is nil, by SIGINT or SIGTERM. An exec error is printed after the
// command's name; the exit code is then 1.
func Run(name string, stderr io.Writer, stop *atomic.Bool, parse func() error, exec func(stop *atomic.Bool) error) int {
	if err := parse(); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	if stop == nil {
		stop = new(atomic.Bool)
		sigc := make(chan os.Signal, 1)
		signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
		defer signal.Stop(sigc)
		go func() {
			if _, ok := <-sigc; ok {
				stop.Store(true)
			}
		}()
	}
	if err := exec(stop); err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	return 0
}

// Positional parses args with fs, allowing flags after positional arguments (TCPDirect's tools
// take "ping -s 64 …" and "-s 64 ping …" alike), and returns the positional arguments.
func Positional(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// ParseAddr takes HOST:PORT with an IPv4 host; a name is resolved by the system resolver.
func ParseAddr(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q: want HOST:PORT", s)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for _, ip := range ips {
		if ip4 := ip.To4(); ip4 != nil {
			return netip.ParseAddrPort(ip4.String() + ":" + port)
		}
	}
	return netip.AddrPort{}, fmt.Errorf("%s has no IPv4 address", host)
}

// PingWait is how long a ping (a client) waits by default for the link, its connection and
// the first answer. A pong (a server) waits for its first ping forever by default, as
// TCPDirect's do; each tool's -wait sets either.
const PingWait = 30 * time.Second

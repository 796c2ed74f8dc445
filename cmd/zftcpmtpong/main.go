// Command zftcpmtpong shows a zocket stack used from two threads, as TCPDirect's zftcpmtpong
// does (user guide §4.5):
//
//	ZF_ATTR="interface=…;local_ip=…" zftcpmtpong [-q] [options] LOCAL:PORT
//
// It listens on LOCAL:PORT, accepts connections and, on each, sends back as many bytes as it
// received (not the same bytes: a filler pattern). One goroutine, locked to its OS thread,
// receives: it runs the reactor, accepts and reads. Another, on its own OS thread, sends what
// each connection is owed. A stack is used by one thread at a time, so every stack call is made
// under one mutex — and the receiving thread takes it only when Stack.HasPendingWork, the one
// call that is safe without it, says there is something to do; an idle receiver spins on that
// check without touching the lock, leaving it to the sender. (On PMDs that cannot count their
// receive queue — net_memif, net_af_packet — HasPendingWork answers true conservatively, and
// the receiver takes the lock every turn.)
//
// By default it traces the calls it makes (accept, reads, sends); -q suppresses that. It runs
// until interrupted, or until -n connections have come and gone.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zocket/zocket/internal/zfapp"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

type config struct {
	quiet   bool
	local   netip.AddrPort
	config  string
	cpu     int
	conns   int
	metrics string
	linger  time.Duration // -linger
}

const usageText = `usage: zftcpmtpong [-q] [options] LOCAL:PORT

Accepts TCP connections on LOCAL:PORT (an address of the stack: attribute local_ip) and sends
back on each as many bytes as it receives, receiving and sending from two threads.
Attributes come from -config, then ZF_ATTR.

options:
`

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("zftcpmtpong", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	metricsAddr := zfapp.MetricsFlag(fs)
	fs.BoolVar(&c.quiet, "q", false, "quiet: do not trace calls")
	fs.StringVar(&c.config, "config", "", "attribute `CONFIG`: embedded name or file")
	fs.IntVar(&c.cpu, "c", -1, "`CPU` for the receiving thread (-1: no pinning)")
	fs.IntVar(&c.conns, "n", 0, "exit after `N` connections have closed (0: run until interrupted)")
	linger := zfapp.LingerFlag(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("zftcpmtpong: expected LOCAL:PORT")
	}
	var err error
	if c.local, err = netip.ParseAddrPort(fs.Arg(0)); err != nil {
		return nil, fmt.Errorf("zftcpmtpong: %w", err)
	}
	c.metrics, c.linger = *metricsAddr, *linger
	return c, nil
}

func run(args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	var c *config
	return zfapp.Run("zftcpmtpong", stderr, stop,
		func() (err error) { c, err = parse(args, stderr); return err },
		func(stop *atomic.Bool) error { return serve(c, stdout, stop) })
}

// conn is one accepted connection and the bytes it is owed. owed moves from the receiving
// thread to the sending one without the lock.
type conn struct {
	z      *tcp.Conn
	id     int
	owed   atomic.Int64
	closed atomic.Bool // the receiver saw EOF or an error; the sender closes once paid
	done   bool        // closed by the sender (sender's own)
}

// pong is the shared state: the stack and the lock that guards every call into it.
type pong struct {
	c     *config
	st    *stack.Stack
	mu    sync.Mutex
	out   io.Writer
	conns chan *conn // accepted connections, from the receiver to the sender
	ended atomic.Int64
	stop  *atomic.Bool
}

func (p *pong) trace(format string, args ...any) {
	if !p.c.quiet {
		fmt.Fprintf(p.out, format+"\n", args...)
	}
}

func serve(c *config, out io.Writer, stop *atomic.Bool) error {
	a, err := zfapp.Attr(c.config)
	if err != nil {
		return err
	}
	app, err := zfapp.Open("zftcpmtpong", a, c.cpu, 0, stop) // a server: waits for its link forever
	if err != nil {
		return err
	}
	app.Linger = c.linger
	if err := app.ServeMetrics(c.metrics); err != nil {
		app.Close()
		return err
	}
	p := &pong{c: c, st: app.Stack, out: out, conns: make(chan *conn, 64), stop: stop}
	l, err := tcp.Listen(p.st, c.local, nil)
	p.trace("zftl_listen(%v) = %v", c.local, errText(err))
	if err != nil {
		app.Close()
		return err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	var live []*conn
	go func() { defer wg.Done(); live = p.receive(l) }()
	go func() { defer wg.Done(); p.send() }()
	wg.Wait()
	zs := []interface{ Close() error }{l}
	for _, cn := range live {
		if !cn.done {
			zs = append(zs, cn.z)
		}
	}
	return app.Close(zs...)
}

// receive is the receiving thread: reactor, accept, read. It returns the connections it made.
func (p *pong) receive(l *tcp.Listener) []*conn {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(p.conns)
	var all []*conn
	msg := tcp.NewMsg(16)
	for !p.stop.Load() && (p.c.conns == 0 || int(p.ended.Load()) < p.c.conns) {
		if !p.st.HasPendingWork() {
			continue
		}
		p.mu.Lock()
		p.st.Perform()
		for {
			z, err := l.Accept()
			if err != nil {
				break
			}
			cn := &conn{z: z, id: len(all)}
			all = append(all, cn)
			p.trace("zftl_accept() = conn %d from %v", cn.id, z.RemoteAddr())
			p.conns <- cn
		}
		for _, cn := range all {
			if cn.closed.Load() {
				continue
			}
			cn.z.ZcRecv(msg)
			n := 0
			for _, b := range msg.Iov {
				n += len(b)
			}
			if len(msg.Iov) == 0 {
				if err := cn.z.Err(); err != nil {
					p.trace("conn %d: %v", cn.id, err)
					cn.closed.Store(true)
				}
				continue
			}
			r, err := cn.z.ZcRecvDone(msg)
			if n > 0 {
				cn.owed.Add(int64(n))
				p.trace("zft_zc_recv(conn %d) = %d bytes", cn.id, n)
			}
			if r == 0 || err != nil {
				p.trace("zft_zc_recv_done(conn %d) = %d, %v: end of stream", cn.id, r, errText(err))
				cn.closed.Store(true)
			}
		}
		p.mu.Unlock()
	}
	return all
}

// filler is what the sender sends: as many bytes as received, not the same ones.
var filler = func() []byte {
	b := make([]byte, 1460)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}()

// send is the sending thread: pay each connection what it is owed, close it once it is paid
// and its peer has finished.
func (p *pong) send() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mine []*conn
	open := true
	for open || len(mine) > 0 {
		select {
		case cn, ok := <-p.conns:
			if !ok {
				open = false
			} else {
				mine = append(mine, cn)
			}
		default:
		}
		kept := mine[:0]
		for _, cn := range mine {
			if owed := cn.owed.Load(); owed > 0 {
				n := int(min(owed, int64(len(filler))))
				p.mu.Lock()
				sent, err := cn.z.SendSingle(filler[:n], 0)
				p.mu.Unlock()
				if err == nil && sent > 0 {
					cn.owed.Add(-int64(sent))
					p.trace("zft_send(conn %d, %d) = %d", cn.id, n, sent)
				} else if err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.ENOMEM) {
					p.trace("zft_send(conn %d) = %v", cn.id, err)
					cn.owed.Store(0)
				}
			}
			if cn.closed.Load() && cn.owed.Load() == 0 {
				p.mu.Lock()
				err := cn.z.Close()
				p.mu.Unlock()
				cn.done = true
				p.trace("zft_free(conn %d) = %v", cn.id, errText(err))
				p.ended.Add(1)
				continue
			}
			kept = append(kept, cn)
		}
		mine = kept
		if !open && (p.stop.Load() || allPaid(mine)) {
			return // the receiver is gone: nothing more will be owed
		}
	}
}

func allPaid(cs []*conn) bool {
	for _, cn := range cs {
		if cn.owed.Load() > 0 {
			return false
		}
	}
	return true
}

func errText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

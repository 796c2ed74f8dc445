// Package ctl is the protocol of zocket's per-stack control sockets, which zfstackdump (and
// any tool) uses to list the stacks of the machine and see inside them (TCPDirect's
// zf_stackdump, user guide §5.14).
//
// # Sockets
//
// Each stack whose control_socket_dir attribute is not empty listens on the unix stream socket
// DIR/<name>.<pid>.<id>.<tag>.sock (SocketPath), served by goroutines of the stack's process.
// The name is the stack's, with characters other than letters, digits, '-' and '_' replaced by
// '_'; pid and id (the stack's number within its process) say which stack it is, and tag (8
// random hex digits) keeps apart stacks of other PID namespaces sharing the directory (two
// containers' pid 1). List finds them by scanning the directory; a socket nobody listens on
// (a connection to it is refused) is removed.
//
// # Trust
//
// A dump shows every connection's addresses and exact sequence numbers: enough for whoever
// reads it to inject data or resets into a session. So a socket is created mode 0600, and a
// client whose user (SO_PEERCRED) is neither the stack's effective user nor root is answered
// "permission denied" and hung up on, whatever the file's mode. Listen refuses a directory
// that others could replace the socket in: world-writable without the sticky bit, or owned by
// another user than the stack's or root. A server serves MaxClients clients at once, each
// for at most ClientIdle between requests, and caps the wait a request may ask for at
// MaxDumpWait; a failed accept (out of descriptors) is retried, never the server's end.
//
// # Protocol
//
// Line-delimited JSON: the client writes one Request object and a newline, the server answers
// with one Response object and a newline; a connection may carry several exchanges. Commands:
//
//	{"cmd":"info"}                  → {"info":{…}}          the stack's identity (Info)
//	{"cmd":"dump"}                  → {"dump":{…}}          a snapshot (Dump)
//	{"cmd":"dump","timeout_ms":50}  → the same, waiting at most 50 ms for the stack
//
// Errors come back as {"error":"…"}. The server answers "dump" from the stack's snapshot
// handshake (stack.Stack.Snapshot): it never touches the stack's data structures itself, and a
// stack that is not being polled answers with its last snapshot, "fresh":false and its age.
//
// The Dump document is also what `zfstackdump dump -json` prints, one object per stack.
package ctl

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Commands.
const (
	CmdInfo = "info"
	CmdDump = "dump"
)

// Request is one client request.
type Request struct {
	Cmd       string `json:"cmd"`
	TimeoutMs int    `json:"timeout_ms,omitempty"`
}

// Response is the answer to a Request: exactly one of its fields is set.
type Response struct {
	Error string `json:"error,omitempty"`
	Info  *Info  `json:"info,omitempty"`
	Dump  *Dump  `json:"dump,omitempty"`
}

// Info identifies a stack.
type Info struct {
	Name      string `json:"name"`
	ID        int    `json:"id"`
	PID       int    `json:"pid"`
	Interface string `json:"interface"` // the interface attribute
	Port      string `json:"port"`      // the DPDK port's name
	PortID    int    `json:"port_id"`
	Queue     int    `json:"queue"`
	Driver    string `json:"driver"`
	MAC       string `json:"mac"`
	IP        string `json:"ip"` // address/prefix
	MTU       int    `json:"mtu"`
	Socket    string `json:"socket,omitempty"`
}

// Field is one named value.
type Field struct {
	Name  string
	Value uint64
}

// Fields is an ordered list of named values. It is a JSON object whose keys keep their order.
type Fields []Field

// Get returns the value of the field called name.
func (fs Fields) Get(name string) (uint64, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// MarshalJSON writes the fields as an object, in order.
func (fs Fields) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Name)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(f.Value, 10))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of numbers, keeping the keys' order.
func (fs *Fields) UnmarshalJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("ctl: fields: want an object")
	}
	*fs = (*fs)[:0]
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		var n json.Number
		if err := d.Decode(&n); err != nil {
			return err
		}
		v, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			return fmt.Errorf("ctl: field %v: %w", k, err)
		}
		*fs = append(*fs, Field{Name: k.(string), Value: v})
	}
	_, err := d.Token()
	return err
}

// Group is a line of zfstackdump's text output: a heading and the fields printed on it.
type Group struct {
	Name   string   `json:"name"`
	Fields []string `json:"fields"`
}

// Zocket is one zocket of a Dump (a stack.DumpRow).
type Zocket struct {
	Type   string  `json:"type"`  // "tcp", "udp_rx"…
	Title  string  `json:"title"` // "TCP", "UDP RX"…
	ID     uint32  `json:"id"`
	State  string  `json:"state,omitempty"`
	Local  string  `json:"local"`
	Remote string  `json:"remote"`
	Fields Fields  `json:"fields"`
	Groups []Group `json:"groups,omitempty"`
}

// Pool is the stack's packet-buffer pool.
type Pool struct {
	Size  int `json:"pkt_bufs_n"`
	InUse int `json:"in_use"`
	Free  int `json:"free"`
}

// Capture is the stack's packet capture.
type Capture struct {
	File    string `json:"file"`
	Filter  string `json:"filter,omitempty"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Drops   uint64 `json:"drops"`
	Limited uint64 `json:"limited"`      // frames past capture_max_bytes
	Errors  uint64 `json:"write_errors"` // frames lost to write errors
}

// Dump is a stack's state (zf_stackdump dump): §5.14's stack, config, pool and alternatives
// lines, the counters of the stack, port and transports, and every zocket.
type Dump struct {
	Info       Info      `json:"stack"`
	Seq        uint64    `json:"seq"`         // snapshot number
	Time       time.Time `json:"time"`        // when the stack took it
	AgeSeconds float64   `json:"age_seconds"` // how old it was when served
	Fresh      bool      `json:"fresh"`       // false: the stack did not answer in time
	BuildNs    int64     `json:"build_ns"`    // time the stack spent copying it
	Turns      int       `json:"turns"`       // Perform calls the copy spanned
	Attributes string    `json:"attributes"`  // the attributes that differ from their defaults
	Config     Fields    `json:"config"`      // tcp_timewait_ticks, ms_per_tcp_tick…
	Pool       Pool      `json:"pool"`
	Alts       Fields    `json:"alts"` // n_alts, alt_buf_size
	Stats      Fields    `json:"stats"`
	Port       Fields    `json:"port"`
	Drops      Fields    `json:"drops"` // the transports' drop counters (the stack's are in stats)
	Transport  Fields    `json:"transport"`
	Capture    *Capture  `json:"capture,omitempty"`
	Zockets    []Zocket  `json:"zockets"`
}

// SocketPath returns a new path for a stack's control socket: DIR/<name>.<pid>.<id>.<tag>.sock,
// where tag is 8 random hex digits. The pid means something only in the stack's own PID
// namespace, and containers sharing DIR may run stacks with the same name, pid and id: the tag
// keeps their sockets apart, so every call returns a different path.
func SocketPath(dir, name string, pid, id int) string {
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	return filepath.Join(dir, fmt.Sprintf("%s.%d.%d.%x.sock", SafeName(name), pid, id, tag))
}

// SafeName returns name with every character but letters, digits, '-' and '_' replaced by '_'.
func SafeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
}

// Endpoint is a control socket found by List.
type Endpoint struct {
	Name string // the stack's name as in the path (SafeName)
	PID  int    // in the stack's PID namespace, which need not be ours
	ID   int
	Path string
}

// ParsePath parses a socket file name made by SocketPath.
func ParsePath(path string) (Endpoint, bool) {
	base := filepath.Base(path)
	rest, ok := strings.CutSuffix(base, ".sock")
	if !ok {
		return Endpoint{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 4 {
		return Endpoint{}, false
	}
	n := len(parts)
	_, err0 := strconv.ParseUint(parts[n-1], 16, 32)
	id, err1 := strconv.Atoi(parts[n-2])
	pid, err2 := strconv.Atoi(parts[n-3])
	if len(parts[n-1]) != 8 || err0 != nil || err1 != nil || err2 != nil || pid <= 0 || id < 0 {
		return Endpoint{}, false
	}
	return Endpoint{Name: strings.Join(parts[:n-3], "."), PID: pid, ID: id, Path: path}, true
}

// liveTimeout bounds Live's connection attempt.
const liveTimeout = 200 * time.Millisecond

// Live reports whether a server listens on the socket at path: it connects and hangs up. Only a
// refused connection (ECONNREFUSED: nobody listens) or a missing file says no; a socket this
// process may not connect to (EACCES: another user's) or a busy one counts as live. The pid in
// the name is not consulted: it belongs to the stack's PID namespace (a container's), not
// necessarily ours.
func Live(path string) bool {
	c, err := net.DialTimeout("unix", path, liveTimeout)
	if err == nil {
		c.Close()
		return true
	}
	return !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT)
}

// bindGrace is how old a socket nobody listens on must be for List to remove it: between a
// server's bind and its listen, connections are refused too.
const bindGrace = time.Second

// List returns the control sockets in dir, sorted by pid then id. Sockets nobody listens on
// (Live) are skipped, and removed (when removeStale) once older than a second. A missing dir
// lists nothing.
func List(dir string, removeStale bool) ([]Endpoint, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var eps []Endpoint
	for _, e := range ents {
		ep, ok := ParsePath(filepath.Join(dir, e.Name()))
		if !ok || e.Type()&os.ModeSocket == 0 {
			continue
		}
		if !Live(ep.Path) {
			if fi, err := e.Info(); removeStale && err == nil && time.Since(fi.ModTime()) > bindGrace {
				os.Remove(ep.Path)
			}
			continue
		}
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool {
		if eps[i].PID != eps[j].PID {
			return eps[i].PID < eps[j].PID
		}
		if eps[i].ID != eps[j].ID {
			return eps[i].ID < eps[j].ID
		}
		return eps[i].Path < eps[j].Path
	})
	return eps, nil
}

// Client is a connection to one control socket.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	enc  *json.Encoder
}

// Dial connects to the control socket at path, with a timeout for the connection and every
// exchange.
func Dial(path string, timeout time.Duration) (*Client, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	return &Client{conn: c, r: bufio.NewReader(c), enc: json.NewEncoder(c)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// MaxResponse bounds a response line the client reads (a dump of some 50,000 TCP zockets):
// a server that sends more is refused with EMSGSIZE rather than read into memory.
const MaxResponse = 64 << 20

// Do sends req and reads the response. A response with Error set is returned as an error.
// Errors: EMSGSIZE (wrapped) for a response longer than MaxResponse; the connection's errors.
func (c *Client) Do(req Request) (*Response, error) {
	if err := c.enc.Encode(req); err != nil {
		return nil, err
	}
	line, err := readLine(c.r, MaxResponse)
	if err != nil {
		return nil, err
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("ctl: bad response: %w", err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// readLine reads up to and including a newline, at most limit bytes.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return nil, fmt.Errorf("ctl: response longer than %d bytes: %w", limit, syscall.EMSGSIZE)
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// Info asks for the stack's identity.
func (c *Client) Info() (*Info, error) {
	r, err := c.Do(Request{Cmd: CmdInfo})
	if err != nil {
		return nil, err
	}
	if r.Info == nil {
		return nil, errors.New("ctl: info: empty response")
	}
	return r.Info, nil
}

// Dump asks for a snapshot, letting the stack take up to wait to answer (0: its default; the
// server caps it at MaxDumpWait).
func (c *Client) Dump(wait time.Duration) (*Dump, error) {
	r, err := c.Do(Request{Cmd: CmdDump, TimeoutMs: int(wait / time.Millisecond)})
	if err != nil {
		return nil, err
	}
	if r.Dump == nil {
		return nil, errors.New("ctl: dump: empty response")
	}
	return r.Dump, nil
}

// Handler answers requests for a server. Its methods are called from several goroutines at
// once (one per client).
type Handler interface {
	Info() *Info
	Dump(timeout time.Duration) (*Dump, error)
}

// Server limits.
const (
	// MaxClients is how many clients a server serves at once; one more waits up to slotWait
	// for a slot, then is answered "busy" (EBUSY) and hung up on.
	MaxClients = 4
	// slotWait is how long a client beyond MaxClients waits for a slot.
	slotWait = 500 * time.Millisecond
	// MaxDumpWait caps the wait a client may ask for (Request.TimeoutMs): the stack's
	// snapshot lock is held that long when the stack is not polled.
	MaxDumpWait = time.Second
	// ClientIdle is how long a client may take to send its next request.
	ClientIdle = 5 * time.Second
	// maxAcceptDelay caps the backoff after a failed accept.
	maxAcceptDelay = time.Second
	// socketMode is the socket file's mode: the stack's user only (root bypasses it).
	socketMode = 0o600
)

// Server serves a control socket.
type Server struct {
	path   string
	ln     *net.UnixListener
	h      Handler
	uid    int
	done   chan struct{}
	quit   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{} // the clients being served
	slots  chan struct{}              // one token per client being served (MaxClients)
	closed bool
}

// Listen creates the socket at path, mode 0600, and serves h on it from goroutines of its own
// until Close: one accepting, one per client (at most MaxClients). Clients whose user
// (SO_PEERCRED) is neither the process's effective user nor root are refused. The directory
// is created (0755) if missing.
//
// Errors: EPERM (wrapped) when the directory is world-writable without the sticky bit or is
// owned by a user other than ours or root (either could replace the socket); EADDRINUSE when a
// server already listens at path; EEXIST when path is not a socket; the file system's errors.
// A socket at path that nobody listens on (Live) is replaced.
func Listen(path string, h Handler) (*Server, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&os.ModeSocket == 0:
			return nil, fmt.Errorf("ctl: %s: not a socket: %w", path, syscall.EEXIST)
		case Live(path):
			return nil, fmt.Errorf("ctl: %s: a server listens there: %w", path, syscall.EADDRINUSE)
		}
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	// Between bind and chmod the file has the umask's mode: the peer check covers that window.
	if err := os.Chmod(path, socketMode); err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{path: path, ln: ln, h: h, uid: os.Geteuid(), done: make(chan struct{}),
		quit: make(chan struct{}), conns: map[*net.UnixConn]struct{}{},
		slots: make(chan struct{}, MaxClients)}
	go s.serve()
	return s, nil
}

// checkDir refuses a directory others could replace a socket in.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := int(st.Uid); uid != os.Geteuid() && uid != 0 {
		return fmt.Errorf("ctl: %s: owned by uid %d, not by us or root: %w", dir, uid, syscall.EPERM)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("ctl: %s: world-writable without the sticky bit: %w", dir, syscall.EPERM)
	}
	return nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

func (s *Server) serve() {
	defer close(s.done)
	var delay time.Duration
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE, ENFILE, ENOBUFS, ECONNABORTED…: the next accept may work. Back off
			// as net/http does, so that a process out of descriptors does not spin.
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptDelay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.quit:
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		if uid, err := peerUID(c); err != nil || uid != s.uid && uid != 0 {
			// Answered on a goroutine of its own (a second at most): another user's
			// clients never take a slot of MaxClients.
			go refuse(c, fmt.Sprintf("%v: uid %d is not the stack's (%d) nor root", syscall.EACCES, uid, s.uid), true)
			continue
		}
		// A slot may be a moment from free (a client or a liveness probe that just hung up):
		// wait for one up to slotWait before answering busy.
		t := time.NewTimer(slotWait)
		select {
		case s.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			refuse(c, fmt.Sprintf("%v: %d clients already", syscall.EBUSY, MaxClients), false)
			continue
		case <-s.quit:
			t.Stop()
			c.Close()
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			<-s.slots
		}()
	}
}

// refuse answers a client with an error and hangs up; with read, it first reads the client's
// request (a second at most), so that the client sees the answer rather than a reset.
func refuse(c *net.UnixConn, msg string, read bool) {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if read {
		_, _ = bufio.NewReaderSize(c, maxRequest).ReadSlice('\n')
	}
	_ = json.NewEncoder(c).Encode(&Response{Error: msg})
	c.Close()
}

// peerUID is the user of the process at the other end of c (SO_PEERCRED).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if cerr != nil {
		return -1, cerr
	}
	return int(cred.Uid), nil
}

// maxRequest bounds a request line.
const maxRequest = 4096

func (s *Server) handle(c *net.UnixConn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, maxRequest)
	for {
		_ = c.SetDeadline(time.Now().Add(ClientIdle))
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		var req Request
		var resp Response
		if err := json.Unmarshal(line, &req); err != nil {
			resp.Error = "bad request: " + err.Error()
		} else {
			switch req.Cmd {
			case CmdInfo:
				resp.Info = s.h.Info()
			case CmdDump:
				wait := min(max(time.Duration(req.TimeoutMs)*time.Millisecond, 0), MaxDumpWait)
				resp.Dump, err = s.h.Dump(wait)
				if err != nil {
					resp.Error = err.Error()
				}
			default:
				resp.Error = fmt.Sprintf("unknown command %q (want %s or %s)", req.Cmd, CmdInfo, CmdDump)
			}
		}
		b, err := json.Marshal(&resp)
		if err != nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(ClientIdle)) // for the write, not the encoding
		if _, err := c.Write(append(b, '\n')); err != nil {
			return
		}
	}
}

// Close stops serving, removes the socket, hangs up on the clients and waits for the
// goroutines (and requests being answered) to finish.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	if !s.closed {
		close(s.quit)
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-s.done
	s.wg.Wait()
	return err
}

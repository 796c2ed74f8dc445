// Package ctl is the protocol of zocket's per-stack control sockets, which zfstackdump (and
// any tool) uses to list the stacks of the machine and see inside them (TCPDirect's
// zf_stackdump, user guide §5.14).
//
// # Sockets
//
// Each stack whose control_socket_dir attribute is not empty listens on the unix stream socket
// DIR/<name>.<pid>.<id>.sock (SocketPath), served by one goroutine of the stack's process.
// The name is the stack's, with characters other than letters, digits, '-' and '_' replaced by
// '_'; pid and id (the stack's number within its process) make the path unique. List finds
// them by scanning the directory; sockets whose process is gone are removed.
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

// SocketPath returns the control socket of a stack.
func SocketPath(dir, name string, pid, id int) string {
	return filepath.Join(dir, fmt.Sprintf("%s.%d.%d.sock", SafeName(name), pid, id))
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
	PID  int
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
	if len(parts) < 3 {
		return Endpoint{}, false
	}
	id, err1 := strconv.Atoi(parts[len(parts)-1])
	pid, err2 := strconv.Atoi(parts[len(parts)-2])
	if err1 != nil || err2 != nil || pid <= 0 || id < 0 {
		return Endpoint{}, false
	}
	return Endpoint{Name: strings.Join(parts[:len(parts)-2], "."), PID: pid, ID: id, Path: path}, true
}

// Alive reports whether process pid exists.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// List returns the control sockets in dir, sorted by pid then id. Sockets of processes that
// no longer exist are removed (when removeStale) and skipped. A missing dir lists nothing.
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
		if !Alive(ep.PID) {
			if removeStale {
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
		return eps[i].ID < eps[j].ID
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

// Do sends req and reads the response. A response with Error set is returned as an error.
func (c *Client) Do(req Request) (*Response, error) {
	if err := c.enc.Encode(req); err != nil {
		return nil, err
	}
	line, err := c.r.ReadBytes('\n')
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

// Dump asks for a snapshot, letting the stack take up to wait to answer (0: its default).
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

// Handler answers requests for a server.
type Handler interface {
	Info() *Info
	Dump(timeout time.Duration) (*Dump, error)
}

// Server serves a control socket.
type Server struct {
	path   string
	ln     *net.UnixListener
	h      Handler
	done   chan struct{}
	mu     sync.Mutex
	cur    net.Conn // the connection being served
	closed bool
}

// Listen creates the socket at path (removing a stale file there first) and serves h on it
// from a goroutine until Close.
func Listen(path string, h Handler) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	s := &Server{path: path, ln: ln, h: h, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

func (s *Server) serve() {
	defer close(s.done)
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.cur = c
		s.mu.Unlock()
		s.handle(c) // one client at a time: a stack is dumped by one tool at once
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
	}
}

// maxRequest bounds a request line.
const maxRequest = 4096

func (s *Server) handle(c *net.UnixConn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, maxRequest)
	enc := json.NewEncoder(c)
	for {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
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
				resp.Dump, err = s.h.Dump(time.Duration(req.TimeoutMs) * time.Millisecond)
				if err != nil {
					resp.Error = err.Error()
				}
			default:
				resp.Error = fmt.Sprintf("unknown command %q (want %s or %s)", req.Cmd, CmdInfo, CmdDump)
			}
		}
		if enc.Encode(&resp) != nil {
			return
		}
	}
}

// Close stops serving, removes the socket and waits for the goroutine (and a request being
// answered) to finish.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.closed = true
	if s.cur != nil {
		s.cur.Close()
	}
	s.mu.Unlock()
	<-s.done
	return err
}

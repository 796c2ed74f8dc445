package stack

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/internal/redact"
)

// The control socket (attribute control_socket_dir): each stack serves
// DIR/<name>.<pid>.<id>.<tag>.sock (mode 0600, to its own user and root only) from goroutines
// started in New and stopped in Close, speaking internal/ctl's line-delimited JSON;
// zfstackdump lists and dumps stacks through it. The goroutines never touch the stack's data
// structures: a dump is a snapshot (Stack.Snapshot) taken by the polling goroutine between
// Perform calls, so the data path pauses only for the copy. With the default directory (/run/zocket) a socket that cannot be created is logged
// and skipped; a directory set explicitly must work or New fails.

// observer is a stack's observability: snapshots, logging, capture and the control socket.
type observer struct {
	id      int
	snap    snapState
	log     logState
	capture *captureTap
	ctl     *ctl.Server
	info    ctl.Info
}

var stackIDs atomic.Int32

// ID is the stack's number within its process (zfstackdump's id), from 0 in creation order.
func (s *Stack) ID() int { return s.obs.id }

// ControlSocket is the path of the stack's control socket ("" when it has none).
func (s *Stack) ControlSocket() string {
	if s.obs.ctl == nil {
		return ""
	}
	return s.obs.ctl.Path()
}

// initObs sets up logging, snapshots, capture and the control socket; New calls it once the
// port is started.
func (s *Stack) initObs() error {
	s.obs.id = int(stackIDs.Add(1)) - 1
	if err := s.initLog(nil); err != nil {
		return err
	}
	s.obs.info = ctl.Info{
		Name: s.name, ID: s.obs.id, PID: os.Getpid(),
		Interface: redact.String(s.attr.StrOf(attr.Interface)), Port: s.port.Name(), PortID: int(s.port),
		Queue: int(s.queue), Driver: s.info.Driver, MAC: net.HardwareAddr(s.mac[:]).String(),
		IP: s.prefix.String(), MTU: s.mtu,
	}
	s.initSnapshots()
	if err := s.openCapture(); err != nil {
		return err
	}
	if err := s.openControl(); err != nil {
		return err
	}
	if s.LogEnabled(LogStack, LogInfo) {
		s.Logger(LogStack).Info("stack opened", "interface", s.obs.info.Interface, "driver", s.info.Driver,
			"ip", s.obs.info.IP, "mac", s.obs.info.MAC, "id", s.obs.id,
			"control_socket", s.ControlSocket(), "capture", s.CaptureFile())
	}
	return nil
}

// closeObs stops the control socket, finishes the capture file and closes the log; Close
// calls it first. Errors are logged.
func (s *Stack) closeObs() {
	s.obs.snap.closed.Store(true)
	// Wait out a reader inside Snapshot (it stops waiting once closed), so that none reads
	// the port's statistics while the port closes.
	s.obs.snap.mu.Lock()
	s.obs.snap.readersGone = true
	s.obs.snap.mu.Unlock()
	if s.obs.ctl != nil {
		s.obs.ctl.Close()
		s.obs.ctl = nil
	}
	if err := s.closeCapture(); err != nil && s.obs.log.bg != nil {
		s.obs.log.bg.Error("capture", "err", err)
	}
	if s.obs.log.bg != nil && s.LogEnabled(LogStack, LogInfo) {
		s.Logger(LogStack).Info("stack closed", "rx_packets", s.ctr.RxPackets, "tx_packets", s.ctr.TxPackets)
	}
	s.obs.log.close()
}

func (s *Stack) openControl() error {
	dir := s.attr.StrOf(attr.ControlSocketDir)
	if dir == "" {
		return nil
	}
	path := ctl.SocketPath(dir, s.name, os.Getpid(), s.obs.id)
	// The identity is complete before the socket serves it: the server's goroutines read it.
	s.obs.info.Socket = path
	srv, err := ctl.Listen(path, controlHandler{s})
	if err != nil {
		s.obs.info.Socket = ""
		if s.attr.IsDefault(attr.ControlSocketDir) {
			if s.LogEnabled(LogStack, LogWarn) {
				s.Logger(LogStack).Warn("no control socket: zfstackdump will not see this stack", "path", path, "err", err)
			}
			return nil
		}
		return fmt.Errorf("stack: attr control_socket_dir=%s: %w", dir, err)
	}
	s.obs.ctl = srv
	// Sockets nobody listens on any more are removed while we are here.
	_, _ = ctl.List(dir, true)
	return nil
}

// ControlInfo returns the stack's identity as the control socket reports it (safe from any
// goroutine: it is complete before the control socket serves, and never changes after).
func (s *Stack) ControlInfo() *ctl.Info {
	in := s.obs.info
	return &in
}

// controlHandler answers the control socket's requests (on the server's goroutine).
type controlHandler struct{ s *Stack }

// Info returns the stack's identity.
func (h controlHandler) Info() *ctl.Info { return h.s.ControlInfo() }

// Dump returns a snapshot in the protocol's form.
func (h controlHandler) Dump(timeout time.Duration) (*ctl.Dump, error) {
	return h.s.ControlDump(timeout), nil
}

// ControlDump takes a snapshot (Stack.Snapshot, from any goroutine but the polling one) and
// returns it as internal/ctl's Dump document, zfstackdump's -json output.
func (s *Stack) ControlDump(timeout time.Duration) *ctl.Dump {
	d := &ctl.Dump{Info: s.obs.info}
	d.Fresh = s.Snapshot(timeout, func(sn *Snapshot) { s.fillDump(d, sn) })
	d.AgeSeconds = time.Since(d.Time).Seconds()
	return d
}

// fillDump converts a snapshot (§5.14's fields where zocket has them).
func (s *Stack) fillDump(d *ctl.Dump, sn *Snapshot) {
	a := s.attr
	d.Seq, d.Time, d.BuildNs, d.Turns = sn.Seq, sn.Time, sn.BuildTime.Nanoseconds(), sn.Turns
	d.Attributes = redact.String(a.String())
	const msPerTick = tickNs / 1_000_000
	d.Config = ctl.Fields{
		{Name: "tcp_timewait_ticks", Value: uint64(a.IntOf(attr.TCPTimewaitMs) / msPerTick)},
		{Name: "tcp_finwait_ticks", Value: uint64(a.IntOf(attr.TCPFinwaitMs) / msPerTick)},
		{Name: "tcp_initial_cwnd", Value: uint64(a.IntOf(attr.TCPInitialCwnd))},
		{Name: "ms_per_tcp_tick", Value: msPerTick},
		{Name: "reactor_spin_count", Value: uint64(s.spin)},
		{Name: "rx_burst", Value: uint64(len(s.rx))},
		{Name: "tx_ring_max", Value: uint64(len(s.txq))},
	}
	d.Pool = ctl.Pool{Size: sn.PoolSize, InUse: sn.PoolInUse, Free: sn.PoolSize - sn.PoolInUse}
	d.Alts = ctl.Fields{
		{Name: "n_alts", Value: uint64(a.IntOf(attr.AltCount))},
		{Name: "alt_buf_size", Value: uint64(a.IntOf(attr.AltBufSize))},
	}
	d.Stats = ctl.Fields{
		{Name: "ring_refill_nomem", Value: sn.Port.RxNoMbuf},
		{Name: "tx_queued", Value: uint64(sn.TxQueued)},
		{Name: "timers", Value: uint64(sn.Timers)},
		{Name: "now_ms", Value: uint64(sn.Now / 1_000_000)},
	}
	sn.Counters.Each(func(name string, v uint64) { d.Stats = append(d.Stats, ctl.Field{Name: name, Value: v}) })
	if sn.PortOK {
		p := sn.Port
		d.Port = ctl.Fields{
			{Name: "rx_packets", Value: p.RxPackets}, {Name: "tx_packets", Value: p.TxPackets},
			{Name: "rx_bytes", Value: p.RxBytes}, {Name: "tx_bytes", Value: p.TxBytes},
			{Name: "rx_errors", Value: p.RxErrors}, {Name: "tx_errors", Value: p.TxErrors},
			{Name: "imissed", Value: p.RxMissed}, {Name: "rx_nombuf", Value: p.RxNoMbuf},
		}
	}
	for _, dr := range sn.Drops {
		d.Drops = append(d.Drops, ctl.Field{Name: dr.Reason, Value: dr.N})
	}
	for c, v := range sn.Transport {
		d.Transport = append(d.Transport, ctl.Field{Name: TransportCounter(c).Name(), Value: v})
	}
	if sn.Capture.File != "" {
		d.Capture = &ctl.Capture{File: sn.Capture.File, Filter: sn.Capture.Filter,
			Packets: sn.Capture.Packets, Bytes: sn.Capture.Bytes, Drops: sn.Capture.Drops,
			Limited: sn.Capture.Limited, Errors: sn.Capture.WriteErrors}
	}
	groups := map[*DumpKind][]ctl.Group{}
	d.Zockets = make([]ctl.Zocket, 0, len(sn.Rows))
	for i := range sn.Rows {
		r := &sn.Rows[i]
		z := ctl.Zocket{
			Type: r.Kind.Type, Title: r.Kind.Title, ID: r.ID, State: r.StateName(),
			Local: r.LocalAddr().String(), Remote: r.RemoteAddr().String(),
			Fields: make(ctl.Fields, len(r.F)),
		}
		for j, v := range r.F {
			z.Fields[j] = ctl.Field{Name: r.Kind.Fields[j].Name, Value: v}
		}
		g, ok := groups[r.Kind]
		if !ok {
			g = kindGroups(r.Kind)
			groups[r.Kind] = g
		}
		z.Groups = g
		d.Zockets = append(d.Zockets, z)
	}
}

// kindGroups returns the lines of a kind's fields: consecutive fields of one group.
func kindGroups(k *DumpKind) []ctl.Group {
	var gs []ctl.Group
	for i, f := range k.Fields {
		if i == 0 || f.Group != k.Fields[i-1].Group {
			gs = append(gs, ctl.Group{Name: f.Group})
		}
		gs[len(gs)-1].Fields = append(gs[len(gs)-1].Fields, f.Name)
	}
	return gs
}

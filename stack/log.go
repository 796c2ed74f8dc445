package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
)

// Logging (TCPDirect user guide §7.5, §7.6). The log_level attribute is a bitmask with one
// 4-bit nibble per component (LogComponent); each nibble combines LogErr (0x1), LogWarn (0x2),
// LogInfo (0x4) and LogTrace (0x8). The default, 0x1111111111111, logs errors of every
// component. Unlike TCPDirect, trace needs no debug build: it is behind the same level check.
//
// Messages go through log/slog, one Logger per component, to stderr or to log_file (appended
// to; a name ending in ".json" gets JSON lines, any other slog's text format). log_file is
// created with mode 0600 (an existing file keeps its mode) and a symbolic link in its place is
// refused (ELOOP): logs name addresses, ports and files that other local users need not see. Every record
// carries component=…; log_format adds: ZF_LF_STACK_NAME (0x1) stack=<name>, ZF_LF_FRC (0x2)
// frc=<TSC>, ZF_LF_TCP_TIME (0x4) tcp_time=<the stack's clock in ms ticks>, ZF_LF_PROCESS
// (0x8) pid=<pid> proc=<program>.
//
// Nothing is formatted unless the level is enabled: the loggers' handler answers Enabled from
// the nibble, so a disabled call returns before a record is made. On hot paths, where even
// boxing the arguments would allocate, guard the call:
//
//	if st.LogEnabled(stack.LogTCPRx, stack.LogTrace) {
//		st.Logger(stack.LogTCPRx).Debug("segment", "seq", seq, "len", n)
//	}
//
// LogEnabled is a shift, a mask and a compare (inlined). Loggers are for the polling
// goroutine (tcp_time reads the stack's clock); the stack's own background goroutines log
// without it.

// LogComponent is a logging component: its nibble of log_level.
type LogComponent uint8

// Components, in the order of their nibbles in log_level.
const (
	LogStack    LogComponent = iota // bits 0-3: the stack (New, Close, attributes)
	LogTCPRx                        // bits 4-7
	LogTCPTx                        // bits 8-11
	LogTCPConn                      // bits 12-15: connection state changes
	LogUDPRx                        // bits 16-19
	LogUDPTx                        // bits 20-23
	LogUDPConn                      // bits 24-27
	LogMuxer                        // bits 28-31
	LogPool                         // bits 32-35: packet buffers
	LogFastPath                     // bits 36-39: the reactor
	LogTimers                       // bits 40-43
	LogFilters                      // bits 44-47: the demultiplexers
	LogCplane                       // bits 48-51: the ARP neighbour table
	NumLogComponents
)

var logComponentNames = [NumLogComponents]string{
	"stack", "tcp-rx", "tcp-tx", "tcp-conn", "udp-rx", "udp-tx", "udp-conn",
	"muxer", "pool", "fast-path", "timers", "filters", "cplane",
}

// String returns the component's name, e.g. "tcp-rx".
func (c LogComponent) String() string {
	if c < NumLogComponents {
		return logComponentNames[c]
	}
	return "unknown"
}

// LogLevel is one bit of a log_level nibble.
type LogLevel uint8

// Levels, as in log_level's nibbles, and the slog levels they map to.
const (
	LogErr   LogLevel = 0x1 // slog.LevelError
	LogWarn  LogLevel = 0x2 // slog.LevelWarn
	LogInfo  LogLevel = 0x4 // slog.LevelInfo
	LogTrace LogLevel = 0x8 // slog.LevelDebug
)

// Slog returns the slog level of l.
func (l LogLevel) Slog() slog.Level {
	switch l {
	case LogErr:
		return slog.LevelError
	case LogWarn:
		return slog.LevelWarn
	case LogInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// levelBit maps a slog level to its log_level bit.
func levelBit(l slog.Level) uint64 {
	switch {
	case l >= slog.LevelError:
		return uint64(LogErr)
	case l >= slog.LevelWarn:
		return uint64(LogWarn)
	case l >= slog.LevelInfo:
		return uint64(LogInfo)
	}
	return uint64(LogTrace)
}

// log_format flags (ZF_LF_*).
const (
	logFmtStackName = 0x1
	logFmtFRC       = 0x2
	logFmtTCPTime   = 0x4
	logFmtProcess   = 0x8
)

// logState is a stack's logging: the level mask, one Logger per component, and the file.
type logState struct {
	mask    uint64
	loggers [NumLogComponents]*slog.Logger
	bg      *slog.Logger // for the stack's own goroutines: no tcp_time
	file    *os.File     // log_file, or nil for stderr
}

// LogEnabled reports whether component c logs at level l (a bit of its log_level nibble).
// It costs a shift and a mask; use it to guard log calls on hot paths.
func (s *Stack) LogEnabled(c LogComponent, l LogLevel) bool {
	return s.obs.log.mask>>(4*uint(c))&uint64(l) != 0
}

// Logger returns the logger of component c. Its records carry component=<c> and the
// log_format fields; levels not enabled in c's nibble are dropped before formatting.
func (s *Stack) Logger(c LogComponent) *slog.Logger {
	if c >= NumLogComponents {
		c = LogStack
	}
	return s.obs.log.loggers[c]
}

// initLog opens log_file (or uses w, stderr when nil) and makes the component loggers.
func (s *Stack) initLog(w io.Writer) error {
	l := &s.obs.log
	l.mask = uint64(s.attr.IntOf(attr.LogLevel))
	path := s.attr.StrOf(attr.LogFile)
	if w == nil {
		w = os.Stderr
		if path != "" {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
			if err != nil {
				return fmt.Errorf("stack: attr log_file=%s: %w", path, err)
			}
			l.file, w = f, f
		}
	}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	var h slog.Handler
	if strings.HasSuffix(path, ".json") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	format := s.attr.IntOf(attr.LogFormat)
	var static []slog.Attr
	if format&logFmtStackName != 0 {
		static = append(static, slog.String("stack", s.name))
	}
	if format&logFmtProcess != 0 {
		static = append(static, slog.Int("pid", os.Getpid()), slog.String("proc", filepath.Base(os.Args[0])))
	}
	h = h.WithAttrs(static)
	for c := range NumLogComponents {
		nib := l.mask >> (4 * uint(c)) & 0xf
		l.loggers[c] = slog.New(&logHandler{
			next: h.WithAttrs([]slog.Attr{slog.String("component", c.String())}),
			nib:  nib, st: s, format: format,
		})
	}
	l.bg = slog.New(&logHandler{
		next: h.WithAttrs([]slog.Attr{slog.String("component", LogStack.String())}),
		nib:  l.mask & 0xf, format: format &^ logFmtTCPTime,
	})
	return nil
}

func (l *logState) close() {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

// logHandler filters by a log_level nibble and adds the per-record log_format fields.
type logHandler struct {
	next   slog.Handler
	nib    uint64
	st     *Stack // nil: no tcp_time
	format int64
}

// Enabled reports whether level is on in the component's nibble.
func (h *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	return h.nib&levelBit(level) != 0
}

// Handle adds frc and tcp_time when log_format asks for them and passes the record on.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.format&logFmtFRC != 0 {
		r.AddAttrs(slog.Uint64("frc", dpdk.TSC()))
	}
	if h.format&logFmtTCPTime != 0 && h.st != nil {
		r.AddAttrs(slog.Int64("tcp_time", h.st.now/tickNs))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a handler with attrs added, filtering the same way.
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	return &c
}

// WithGroup returns a handler that qualifies later attributes with name.
func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

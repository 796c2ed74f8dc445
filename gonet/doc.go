// Package gonet offers Go's networking interfaces over a zocket stack: net.Conn and
// net.Listener for TCP (Stack.Dial, Stack.DialContext, Stack.Listen), net.PacketConn for UDP
// (Stack.ListenPacket, with multicast groups joined by PacketConn.JoinGroup), so that ordinary
// Go code — net/http, gRPC, a FIX engine — runs on the bypass stack unchanged, while the zf API
// (packages tcp and udp) stays for the hot loop. gVisor's pkg/tcpip/adapters/gonet is the model;
// zocket's stack underneath is a single-threaded poll loop, which shapes the design.
//
// # Design
//
// Open starts a goroutine, the poller, that makes the stack (stack.New, so that its thread is
// the one the cpu attribute pins), owns it, runs its reactor and closes it. A zocket stack is
// single-threaded, so every call into stack, tcp and udp happens under one mutex, the Stack's
// lock: the poller holds it for one reactor turn (stack.Muxer.Wait with timeout 0, one Perform)
// and releases it between turns; a caller of Read, Write, Accept, Dial… takes it for the one
// zocket call it needs (Recv, Send, Accept, Connect) and releases it. Callers announce that they
// want the lock (an atomic counter) and the poller lets them in before its next turn, so that a
// spinning poller does not starve them.
//
// Every zocket is in the stack's muxer with its own slot. A call that cannot proceed (no data,
// a full send queue, no connection to accept) clears the stale wake-up of its direction's
// channel, releases the lock and blocks on that channel. The channels are made once per zocket
// (buffered, one wake-up each); the poller's turn posts to them for the muxer events of the
// turn (EPOLLIN/HUP/ERR to the reader, EPOLLOUT/HUP/ERR to the writer), without blocking, and
// the caller looks again under the lock. Since readiness changes only under the lock, and the
// caller drains its channel before releasing it, no wake-up is lost. Deadlines are a timer per
// direction, made at the first future deadline and reset afterwards, that marks the direction
// expired and posts a wake-up; setting a deadline does the same at once; Close posts one too.
// Deadlines change without the lock, so the caller looks at the expired mark again after its
// drain (deadline.drainWake): a deadline's wake-up it drained is then not needed. So steady-state Read and Write allocate
// nothing (TestSteadyStateAllocatesNothing, BenchmarkTCPRoundTrip -benchmem); Write copies
// the caller's bytes once, into the connection's send queue (tcp.Conn.Send).
//
// Concurrent Reads of one connection are serialised by a mutex of the connection, and so are
// concurrent Writes (a Write's bytes are never interleaved with another's); a Read and a Write
// proceed independently.
//
// # Waiting: busy-poll and sleeping
//
// WithWaitMode chooses how the stack waits for work.
//
// BusyPoll: the poller turns the reactor without pause (one core), calling runtime.Gosched every
// few idle turns so that, even with GOMAXPROCS 1, timers and other goroutines run within
// microseconds. When a Read or Write blocks, one blocked caller at a time polls the stack
// itself (TryLock, a turn, look at its channel) while the poller naps: a wake-up then needs no
// hand-over between goroutines, which on a machine with few cores would wait for the scheduler
// (the woken goroutine is queued on the poller's P). The other blocked callers sleep on their
// channels, woken by the spinning caller's turns; when it leaves, one of them takes its place
// (Stack.handBack), since the napping poller would leave them waiting for up to a nap. A
// blocked Accept never spins (Stack.wait).
//
// Sleep (the default): the poller spins for WithSpinBeforeSleep (50 µs) after the last event,
// then primes the stack's waitable fd (stack.PrimeWaitFD: the port's receive interrupt armed, a
// timerfd at the stack's next timer) and blocks in epoll_wait on it together with an eventfd of
// its own. A caller that finds the poller asleep when it releases the lock writes that eventfd,
// since its call may have queued frames or armed timers the primed fd does not cover. An idle
// stack then costs nothing (0.01 % of a core measured on net_tap).
//
// Fallback: PMDs without receive interrupts have no waitable fd (stack.WaitFD fails with
// ENOTSUP: net_ring, net_af_packet, and net_memif in DPDK 22.11, which keeps its eventfds
// private). There the sleeping poller naps instead: 20 µs, doubling to 1 ms while nothing
// happens, cut short by a caller's kick. Frames from the peer then wait up to a nap (1 ms when
// long idle) and an idle stack costs a wake-up per millisecond (about 4 % of a core here); use
// BusyPoll on such ports when latency matters.
//
// # Mixing with the zf API
//
// Stack.Stack returns the stack underneath; it may be used only inside Stack.Do, which runs a
// function under the lock between turns (zf-API zockets made there are polled by the poller's
// turns; their muxer is the caller's own, not gonet's).
//
// # Limits
//
// Addresses are IPv4 literals ("ip:port"; the stack resolves no names); listening on ":port" or
// "0.0.0.0:port" means the stack's address. A stack holds at most max_tcp_endpoints TCP
// connections (64 by default, TCPDirect's; every connection pool entry is made at Open), those
// still closing included: size it for the application, since beyond it Dial fails with ENOBUFS
// and a listener drops SYNs (the client retries). Closed connections in TIME-WAIT give their
// endpoints to new ones when none is free (tcp's timewait.go), and SYNs beyond
// max_tcp_syn_backlog get SYN cookies, so a server that closes first, or a burst of clients,
// does not run out. SetNoDelay(false) fails with EOPNOTSUPP: the stack
// has no Nagle algorithm. Keepalive is per connection (tcpopts.go), starting from the stack's
// tcp_keepalive* attributes rather than net.Dialer's 15 s. A PacketConn sends through udp.Transmitters, which
// have a fixed destination and a prebuilt header: it keeps eight, and a datagram to a
// destination none of them has retargets the oldest (udp.Transmitter.Retarget), so that writes
// to any number of destinations allocate nothing. Datagrams larger than the MTU are sent fragmented but not reassembled on receive
// (as TCPDirect). Stack.Close lingers for WithLinger (5 s) for queued data and FINs.
//
// Errors are those of package net (errors.go): *net.OpError wrapping os.ErrDeadlineExceeded,
// net.ErrClosed, context.Canceled or the stack's syscall.Errno.
package gonet

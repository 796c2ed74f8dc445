package gonet

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

// Errors follow package net: every failure of a zocket call is a *net.OpError naming the
// operation, the network and the addresses, wrapping
//   - os.ErrDeadlineExceeded when a deadline or a context's deadline passed (its Timeout() is
//     true, and so is the OpError's);
//   - net.ErrClosed once the zocket or the stack is closed;
//   - context.Canceled when a context was cancelled;
//   - otherwise the stack's syscall.Errno (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH,
//     EADDRINUSE, …), so that errors.Is(err, syscall.ECONNRESET) holds.
// A read at the end of a TCP stream returns io.EOF, as net does.

// opError wraps err for operation op on network netw between local and remote (either may be
// nil).
func opError(op, netw string, local, remote net.Addr, err error) error {
	return &net.OpError{Op: op, Net: netw, Source: local, Addr: remote, Err: err}
}

// ctxError maps a context's error to the package's errors: a deadline is
// os.ErrDeadlineExceeded, a cancellation context.Canceled.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return os.ErrDeadlineExceeded
	}
	return err
}

// errUnknownNetwork is the error for a network other than those a call supports.
func errUnknownNetwork(network string) error { return net.UnknownNetworkError(network) }

// bare returns err as a syscall.Errno when it wraps one (set-up calls of the stack wrap their
// errno with context), err itself otherwise.
func bare(err error) error {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return err
}

// Package sockperf is the server side of sockperf's ping-pong protocol, shared by the
// ping-pong tools so that Linux's `sockperf pp` (UDP, or --tcp) can drive a zocket pong.
//
// Every message starts with a 14-byte header, big-endian: sequence number (u64), flags (u16:
// a client sets FlagClient, and FlagPongRequest when it wants an answer) and the message length
// (u32, header included). The server answers a pong request with the same bytes and FlagClient
// cleared. Over UDP a datagram is a message; over TCP messages follow each other in the stream,
// framed by their length, which Framer reassembles.
package sockperf

import "encoding/binary"

// Header layout and flags.
const (
	HeaderLen       = 14
	flagsOff        = 8
	lenOff          = 10
	FlagClient      = 1
	FlagPongRequest = 2
	// MaxMessage is the largest message Framer reassembles (sockperf's limit is 65507 over UDP).
	MaxMessage = 65536
)

// Reply turns a whole received message into its answer in place (FlagClient cleared) and
// reports whether one is due (the client asked for a pong). Short messages get no answer.
func Reply(msg []byte) bool {
	if len(msg) < HeaderLen {
		return false
	}
	fl := binary.BigEndian.Uint16(msg[flagsOff:])
	if fl&FlagPongRequest == 0 {
		return false
	}
	binary.BigEndian.PutUint16(msg[flagsOff:], fl&^FlagClient)
	return true
}

// Length is the message length a header announces (header included).
func Length(hdr []byte) int { return int(binary.BigEndian.Uint32(hdr[lenOff:])) }

// Framer reassembles messages from a byte stream (sockperf over TCP) in a buffer of its own,
// allocated once.
type Framer struct {
	buf []byte
	n   int
}

// NewFramer returns an empty framer.
func NewFramer() *Framer { return &Framer{buf: make([]byte, MaxMessage)} }

// Write takes stream bytes and calls answer with every answer due, as the messages complete
// (the slice is valid during the call). It returns how many bytes it consumed (all of them,
// unless answer failed, whose error it returns) and false with a length outside
// HeaderLen..MaxMessage, after which the stream cannot be framed.
func (f *Framer) Write(b []byte, answer func(msg []byte) error) (int, bool, error) {
	used := 0
	for len(b) > 0 {
		need := HeaderLen
		if f.n >= HeaderLen {
			need = Length(f.buf)
			if need < HeaderLen || need > MaxMessage {
				return used, false, nil
			}
		}
		k := copy(f.buf[f.n:need], b)
		f.n += k
		b = b[k:]
		used += k
		if f.n >= HeaderLen && f.n == Length(f.buf) {
			msg := f.buf[:f.n]
			f.n = 0
			if Reply(msg) {
				if err := answer(msg); err != nil {
					return used, true, err
				}
			}
		}
	}
	return used, true, nil
}

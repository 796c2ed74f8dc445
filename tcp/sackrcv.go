package tcp

import (
	"encoding/binary"

	"github.com/zocket/zocket/wire"
)

// The SACK blocks we send (RFC 2018 §4, RFC 2883), the receiving side of SACK: up to four
// blocks of the out-of-order data held, kept as Linux's selective_acks — the block that took
// the most recent segment first, then the others, most recently changed first — and a D-SACK
// block for a duplicate, reported once, ahead of them. The list is kept per arrival (a few
// compares), not rebuilt from the out-of-order queue, so that a deep queue costs nothing per
// ACK. A block evicted from the list (more than four islands) is not reported again until a
// segment joins it; the sender learns of it after the holes before it fill.

// sackNote records that [left, right) is held out of order now: the block holding it
// (merged with every listed block it overlaps or touches) moves to the front.
func (c *Conn) sackNote(left, right wire.Seq) {
	if !c.sackOK {
		return
	}
	nb := wire.SACKBlock{Left: left, Right: right}
	k := 0
	for i := range c.sackBlk[:c.nsack] {
		b := c.sackBlk[i]
		if b.Right.LessThan(nb.Left) || nb.Right.LessThan(b.Left) {
			c.sackBlk[k] = b
			k++
			continue
		}
		if b.Left.LessThan(nb.Left) {
			nb.Left = b.Left
		}
		if nb.Right.LessThan(b.Right) {
			nb.Right = b.Right
		}
	}
	k = min(k, len(c.sackBlk)-1)
	copy(c.sackBlk[1:k+1], c.sackBlk[:k])
	c.sackBlk[0] = nb
	c.nsack = k + 1
	c.sackDue = true
}

// sackDup records a duplicate [left, right) for a D-SACK block (RFC 2883 §4): data below
// RCV.NXT, or out-of-order data held already.
func (c *Conn) sackDup(left, right wire.Seq) {
	if !c.sackOK || !left.LessThan(right) {
		return
	}
	c.dsack = wire.SACKBlock{Left: left, Right: right}
	c.dsackSet = true
	c.sackDue = true
}

// sackAdvance drops the blocks RCV.NXT reached (their data is in order now) and trims one it
// reached into.
func (c *Conn) sackAdvance() {
	k := 0
	for _, b := range c.sackBlk[:c.nsack] {
		if b.Right.LessThanEq(c.rcvNxt) {
			continue
		}
		if b.Left.LessThan(c.rcvNxt) {
			b.Left = c.rcvNxt
		}
		c.sackBlk[k] = b
		k++
	}
	c.nsack = k
}

// sackRenege cuts the blocks back to below seq: the out-of-order data from seq on was given
// up (the last entry of the queue, reneged on for in-order data).
func (c *Conn) sackRenege(seq wire.Seq) {
	k := 0
	for _, b := range c.sackBlk[:c.nsack] {
		if !b.Left.LessThan(seq) {
			continue
		}
		if seq.LessThan(b.Right) {
			b.Right = seq
		}
		c.sackBlk[k] = b
		k++
	}
	c.nsack = k
}

// sackBlocks is how many SACK blocks the next ACK carries: the D-SACK block and the listed
// ones, as many as fit beside the template's options (3 with timestamps, 4 without).
func (c *Conn) sackBlocks() int {
	if !c.sackOK {
		return 0
	}
	n := c.nsack
	if c.dsackSet {
		n++
	}
	return min(n, (wire.MaxTCPOptionsSize-c.tcpOpt-4)/8)
}

// putSACK writes a SACK option of n blocks (n from sackBlocks) at b: NOP, NOP, kind, length,
// then the D-SACK block if one is due and the listed blocks. The D-SACK block goes once.
func (c *Conn) putSACK(b []byte, n int) {
	b[0], b[1], b[2], b[3] = wire.TCPOptionNOP, wire.TCPOptionNOP, wire.TCPOptionSACK, byte(2+8*n)
	b = b[4:]
	i := 0
	if c.dsackSet {
		b = putBlock(b, c.dsack)
		c.dsackSet = false
		i = 1
	}
	for _, blk := range c.sackBlk[:n-i] {
		b = putBlock(b, blk)
	}
	c.sackDue = false
}

// putBlock writes one SACK block at b and returns the rest of b.
func putBlock(b []byte, blk wire.SACKBlock) []byte {
	binary.BigEndian.PutUint32(b, uint32(blk.Left))
	binary.BigEndian.PutUint32(b[4:], uint32(blk.Right))
	return b[8:]
}

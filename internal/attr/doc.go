// Package attr is zocket's attribute table: TCPDirect's attr_tmpl.h and
// zf_attr_* as Go. Package stack re-exports it as stack.Attr, stack.NewAttr
// and stack.AttrDoc.
//
// # One table
//
// Every attribute is declared once, in the unexported defs table of
// table.go: its name, kind (int, bitmask or string), default, range,
// the components that read it, its documentation and, where it differs
// from TCPDirect, what it means on DPDK. That table drives parsing
// ([Attr.Set], [Attr.ParseString], [Attr.LoadFile], [New] with ZF_ATTR),
// the getters, [Doc], [Names], [Attr.String] (for zfstackdump) and the
// files in configs/ ([Attr.Write]; a test fails when configs/default.attr
// is out of date: regenerate with
// `go test ./internal/attr -run TestConfigs -update`).
//
// Each attribute also has an [ID], an exported constant (attr.NBufs,
// attr.Interface, ...). Values live in fixed arrays indexed by ID, so code
// that reads attributes uses [Attr.IntOf] and [Attr.StrOf]: no map lookup,
// no error to check, and a misspelt name is a compile error. The name-based
// getters ([Attr.Int], [Attr.Str], [Attr.Get]) are for tools and users.
//
// Every attribute of chapter 7 of the TCPDirect user guide keeps its name,
// type, default and meaning. Defaults the guide gives as a Linux sysctl
// (tcp_retries, tcp_finwait_ms, ...) are fixed numbers here, never read
// from the host, so that a stack behaves the same on every machine:
// TCPDirect's own values (retries count retransmissions, one fewer than
// Linux's transmissions) and Linux's 60 s for net.ipv4.tcp_fin_timeout.
// pio, ctpio and ctpio_mode are accepted so that TCPDirect ZF_ATTR strings
// work unchanged; they have no effect on DPDK.
//
// # DPDK additions
//
// interface names a DPDK device instead of a Linux interface
// (`net_memif0,role=client,socket=/run/zf.sock`, `net_tap0,iface=zft0`,
// a PCI address). eal_args, local_ip, gateway, mac, mtu, cpu, rx_burst,
// capture, arp_static, udp_rx_queue_len, udp_ttl, multicast_ttl,
// tcp_rto_min_ms, tcp_rto_max_ms, tcp_keepalive*, control_socket_dir and
// log_file are zocket's (tcp_keepalive*, udp_ttl and log_file have
// TCPDirect namesakes outside the guide). [Doc] says, for each, what it
// does.
//
// # Syntax
//
// ZF_ATTR and [Attr.ParseString] take `name=value;name=value`: only ';'
// separates pairs and only the first '=' splits a pair, so values may hold
// '=' and ',' (`interface=net_memif0,role=client,socket=/x.sock`). Blank
// pairs are skipped and space around names and values is trimmed. A file
// read by [Attr.LoadFile] holds one `name=value` per line; blank lines and
// lines starting with '#' are skipped (there are no trailing comments).
// Integers are decimal or 0x-prefixed hexadecimal; bitmasks print in hex.
// String values may not contain ';', newlines or NUL, so that every value
// can be written back in either syntax.
//
// ParseString and LoadFile are atomic: on error the Attr is unchanged. So is
// [New]: a bad ZF_ATTR returns no Attr.
//
// # Trust
//
// ZF_ATTR is code execution: eal_args and interface reach rte_eal_init and
// device probing as given (`-d lib.so` loads a library, net_pcap opens any
// file), so whoever sets the environment owns the process. [Getenv], which
// [New] and the tools use for ZF_ATTR and ZOCKET_EAL_ARGS, ignores them in a
// process the kernel marked AT_SECURE (setuid, setgid, file capabilities).
// See docs/security.md.
//
// # Errors
//
// Errors are [*Error] values that name the attribute, the value and the
// place (ZF_ATTR, file:line), and unwrap to the errno zf_attr_* returns,
// for errors.Is:
//
//   - syscall.ENOENT: no attribute has this name;
//   - syscall.EINVAL: the value does not parse for the attribute's kind
//     (not an integer, not a CIDR, ...), an integer setter or getter was
//     used on a string attribute or the reverse with a getter, or
//     [Attr.Validate] found attributes that contradict each other;
//   - syscall.EOVERFLOW: an integer outside the attribute's range, or a
//     string longer than its limit;
//   - syscall.ENOMSG: [Attr.SetString] on an integer attribute
//     (zf_attr_set_str's code; [Attr.Set] parses the string instead).
//
// For example: `attr n_bufs=3: out of range [64, 16777216] or 0: value too
// large for defined data type`.
//
// Attributes are read when an object is created (stack.New, udp.NewReceiver,
// tcp.Listen, ...), never on the data path. An Attr is not safe for
// concurrent mutation; use [Attr.Clone] for a private copy.
package attr

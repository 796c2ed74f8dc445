package stack

import "github.com/zocket/zocket/internal/attr"

// Attr is a set of attributes (TCPDirect's zf_attr): every attribute of the TCPDirect user
// guide's chapter 7 plus zocket's DPDK additions, with defaults, ranges and docs from one table.
type Attr = attr.Attr

// NewAttr returns the default attributes overridden by the ZF_ATTR environment variable
// ("name=value;name=value"). Parse errors name the attribute: unknown → ENOENT, bad value →
// EINVAL, out of range → EOVERFLOW.
func NewAttr() (*Attr, error) { return attr.New() }

// AttrDoc documents one attribute: type, default, range, components and meaning (zf_attr_doc).
func AttrDoc(name string) (string, error) { return attr.Doc(name) }

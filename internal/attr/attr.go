package attr

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Attr is a set of attribute values, one per attribute of the table
// (TCPDirect's struct zf_attr). The zero Attr is not valid: make one with
// [New] or [NewDefault]. Copying an Attr value copies all its values.
type Attr struct {
	ints [numIDs]int64  // integer and bitmask attributes, by ID
	strs [numIDs]string // string attributes, by ID
}

var (
	defaults Attr          // every attribute at its default
	byName   map[string]ID // name → ID
	names    []string      // sorted names
)

func init() {
	byName = make(map[string]ID, numIDs)
	for id := range numIDs {
		d := &defs[id]
		if d.name == "" {
			panic(fmt.Sprintf("attr: table has no entry for ID %d", id))
		}
		if _, dup := byName[d.name]; dup {
			panic("attr: duplicate attribute " + d.name)
		}
		byName[d.name] = id
		names = append(names, d.name)
		defaults.ints[id] = d.defInt
		defaults.strs[id] = d.defStr
	}
	slices.Sort(names)
}

// New returns an Attr with every attribute at its default, then overridden
// by the environment variable ZF_ATTR ("name=value;name=value") if it is
// set (zf_attr_alloc). A malformed ZF_ATTR returns no Attr and an [*Error]
// whose Where is "ZF_ATTR". ZF_ATTR is read with [Getenv]: a setuid or
// setcap process ignores it.
func New() (*Attr, error) {
	a := NewDefault()
	if s, ok := Getenv("ZF_ATTR"); ok {
		if err := a.parse(s, "ZF_ATTR"); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// NewDefault returns an Attr with every attribute at its default, ignoring
// ZF_ATTR (for tests and tools that must not depend on the environment).
func NewDefault() *Attr {
	a := defaults
	return &a
}

// Lookup returns the ID of the attribute called name, or an error wrapping
// ENOENT.
func Lookup(name string) (ID, error) {
	id, ok := byName[name]
	if !ok {
		return -1, getErr(name, syscall.ENOENT, "unknown attribute")
	}
	return id, nil
}

// String returns the attribute's name.
func (id ID) String() string {
	if id < 0 || id >= numIDs {
		return "ID(" + strconv.Itoa(int(id)) + ")"
	}
	return defs[id].name
}

// Names returns the names of all attributes, sorted (zf_attr_doc with no
// name).
func Names() []string { return slices.Clone(names) }

// Clone returns an independent copy of a (zf_attr_dup).
func (a *Attr) Clone() *Attr {
	b := *a
	return &b
}

// Set sets the attribute called name from its text form, whatever its kind
// (zf_attr_set_from_str): integers in decimal or 0x-prefixed hex, with
// surrounding space ignored; strings as given. Errors wrap ENOENT (unknown
// name), EINVAL (value does not parse or is invalid) or EOVERFLOW (out of
// range).
func (a *Attr) Set(name, value string) error {
	id, ok := byName[name]
	if !ok {
		return setErr(name, value, syscall.ENOENT, "unknown attribute")
	}
	if e := a.set(id, value); e != nil {
		return e
	}
	return nil
}

func (a *Attr) set(id ID, value string) *Error {
	d := &defs[id]
	if d.kind == kindString {
		return a.setStr(id, value)
	}
	v, ok, overflow := parseInt(value)
	if overflow {
		return setErr(d.name, value, syscall.EOVERFLOW, d.rangeText())
	}
	if !ok {
		return setErr(d.name, value, syscall.EINVAL, "not an integer")
	}
	return a.setInt(id, v, value)
}

func (a *Attr) setInt(id ID, v int64, text string) *Error {
	d := &defs[id]
	if (v < d.min || v > d.max) && (v != 0 || !d.zeroOK) {
		return setErr(d.name, text, syscall.EOVERFLOW, d.rangeText())
	}
	if d.checkInt != nil {
		if why := d.checkInt(v); why != "" {
			return setErr(d.name, text, syscall.EINVAL, why)
		}
	}
	a.ints[id] = v
	return nil
}

func (a *Attr) setStr(id ID, s string) *Error {
	d := &defs[id]
	if why := checkText(s); why != "" {
		return setErr(d.name, s, syscall.EINVAL, why)
	}
	if d.max > 0 && int64(len(s)) > d.max {
		return setErr(d.name, s, syscall.EOVERFLOW, "longer than "+strconv.FormatInt(d.max, 10)+" bytes")
	}
	if d.checkStr != nil {
		if why := d.checkStr(s); why != "" {
			return setErr(d.name, s, syscall.EINVAL, why)
		}
	}
	a.strs[id] = s
	return nil
}

// SetInt sets the integer or bitmask attribute called name to v
// (zf_attr_set_int). Errors wrap ENOENT (unknown name), EINVAL (a string
// attribute, or a value the attribute refuses) or EOVERFLOW (out of range).
func (a *Attr) SetInt(name string, v int64) error {
	id, ok := byName[name]
	text := strconv.FormatInt(v, 10)
	if !ok {
		return setErr(name, text, syscall.ENOENT, "unknown attribute")
	}
	if defs[id].kind == kindString {
		return setErr(name, text, syscall.EINVAL, "not an integer attribute")
	}
	if e := a.setInt(id, v, text); e != nil {
		return e
	}
	return nil
}

// SetString sets the string attribute called name to v (zf_attr_set_str;
// "" is TCPDirect's NULL: unset). Errors wrap ENOENT (unknown name), ENOMSG
// (an integer attribute: use [Attr.Set] to parse text into one), EINVAL
// (a value the attribute refuses) or EOVERFLOW (too long).
func (a *Attr) SetString(name, v string) error {
	id, ok := byName[name]
	if !ok {
		return setErr(name, v, syscall.ENOENT, "unknown attribute")
	}
	if defs[id].kind != kindString {
		return setErr(name, v, syscall.ENOMSG, "not a string attribute")
	}
	if e := a.setStr(id, v); e != nil {
		return e
	}
	return nil
}

// Get returns the value of the attribute called name in text form, whatever
// its kind: integers in decimal, bitmasks in 0x-prefixed hex. The result
// given to [Attr.Set] sets the same value. Errors wrap ENOENT.
func (a *Attr) Get(name string) (string, error) {
	id, ok := byName[name]
	if !ok {
		return "", getErr(name, syscall.ENOENT, "unknown attribute")
	}
	return a.text(id), nil
}

func (a *Attr) text(id ID) string {
	return defs[id].format(a.ints[id], a.strs[id])
}

// Int returns the value of the integer or bitmask attribute called name
// (zf_attr_get_int). Errors wrap ENOENT (unknown name) or EINVAL (a string
// attribute).
func (a *Attr) Int(name string) (int64, error) {
	id, ok := byName[name]
	if !ok {
		return 0, getErr(name, syscall.ENOENT, "unknown attribute")
	}
	if defs[id].kind == kindString {
		return 0, getErr(name, syscall.EINVAL, "not an integer attribute")
	}
	return a.ints[id], nil
}

// Str returns the value of the string attribute called name
// (zf_attr_get_str; "" when unset). It is not called String because String
// is the fmt.Stringer. Errors wrap ENOENT (unknown name) or EINVAL (an
// integer attribute).
func (a *Attr) Str(name string) (string, error) {
	id, ok := byName[name]
	if !ok {
		return "", getErr(name, syscall.ENOENT, "unknown attribute")
	}
	if defs[id].kind != kindString {
		return "", getErr(name, syscall.EINVAL, "not a string attribute")
	}
	return a.strs[id], nil
}

// IntOf returns the value of integer or bitmask attribute id, with no
// lookup. It panics if id is a string attribute: that is a programming
// error.
func (a *Attr) IntOf(id ID) int64 {
	if defs[id].kind == kindString {
		panic("attr: IntOf(" + defs[id].name + "): string attribute")
	}
	return a.ints[id]
}

// StrOf returns the value of string attribute id, with no lookup. It panics
// if id is an integer attribute: that is a programming error.
func (a *Attr) StrOf(id ID) string {
	if defs[id].kind != kindString {
		panic("attr: StrOf(" + defs[id].name + "): integer attribute")
	}
	return a.strs[id]
}

// IsDefault reports whether attribute id has its default value.
func (a *Attr) IsDefault(id ID) bool {
	return a.ints[id] == defaults.ints[id] && a.strs[id] == defaults.strs[id]
}

// Reset returns the attribute called name to its default. Errors wrap
// ENOENT.
func (a *Attr) Reset(name string) error {
	id, ok := byName[name]
	if !ok {
		return getErr(name, syscall.ENOENT, "unknown attribute")
	}
	a.ints[id], a.strs[id] = defaults.ints[id], defaults.strs[id]
	return nil
}

// ResetAll returns every attribute to its default (zf_attr_reset). It does
// not read ZF_ATTR.
func (a *Attr) ResetAll() { *a = defaults }

// ParseString applies "name=value;name=value" pairs in order: only ';'
// separates pairs and only the first '=' of a pair splits it, so values may
// contain '=' and ','; empty pairs are skipped and space around names and
// values is trimmed. On error a is unchanged and the error names the pair.
func (a *Attr) ParseString(s string) error {
	return a.parse(s, "")
}

func (a *Attr) parse(s, where string) error {
	b := *a
	for p := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if err := b.setPair(p, where, false); err != nil {
			return err
		}
	}
	*a = b
	return nil
}

// setPair applies one name=value pair. From a file, the error withholds the line's text: a
// file named by mistake (-config /etc/shadow) must not be printed. It then names no unknown
// attribute and no value, only the place, a known attribute and what was expected.
func (a *Attr) setPair(p, where string, file bool) error {
	name, value, ok := strings.Cut(p, "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	var e *Error
	switch id, known := byName[name]; {
	case !ok && file:
		e = &Error{Reason: "want name=value (the line is not shown)", Errno: syscall.EINVAL}
	case !ok:
		e = getErr(strings.TrimSpace(p), syscall.EINVAL, "missing '=' (want name=value)")
	case !known && file:
		e = &Error{Reason: "unknown attribute (the line is not shown; configs/default.attr lists every name)", Errno: syscall.ENOENT}
	case !known:
		e = setErr(name, value, syscall.ENOENT, "unknown attribute")
	default:
		e = a.set(id, value)
		if e != nil && file {
			e.Value, e.hasValue = "", false
		}
	}
	if e == nil {
		return nil
	}
	e.Where = where
	return e
}

// LoadFile applies the attribute file at path: one name=value pair per line
// (space around the name and value trimmed; values may contain '=', ',' and
// '#'), blank lines and lines whose first non-space character is '#'
// skipped. This is the format of configs/*.attr and [Attr.Write]. Errors
// name path:line, the attribute when the name is known, and what was
// expected, never the line's text: no value, no unknown name (a file given
// by mistake, say /etc/shadow, is not printed; the reason of a structured
// value such as arp_static may quote the entry that does not parse). On
// error a is unchanged. An unreadable file returns the *fs.PathError of
// os.ReadFile.
func (a *Attr) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return a.Load(data, path)
}

// Load applies the attribute file text data (the [Attr.LoadFile] format); errors start with
// "where:line:". It is all-or-nothing like LoadFile.
func (a *Attr) Load(data []byte, where string) error {
	b := *a
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if err := b.setPair(line, where+":"+strconv.Itoa(i+1), true); err != nil {
			return err
		}
	}
	*a = b
	return nil
}

// String returns the attributes that differ from their defaults as
// "name=value;name=value", in table order ("" if none); [Attr.ParseString]
// of the result on a default Attr gives a back. zfstackdump prints it.
func (a *Attr) String() string {
	var b strings.Builder
	for id := range numIDs {
		if a.IsDefault(id) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(defs[id].name)
		b.WriteByte('=')
		b.WriteString(a.text(id))
	}
	return b.String()
}

// Write writes a in the format of [Attr.LoadFile]: for each attribute, in
// table order, a "# " comment line with its summary, kind, default, range and
// components, then name=value. With all false it writes only the attributes
// that differ from their defaults.
func (a *Attr) Write(w io.Writer, all bool) error {
	var ids []ID
	for id := range numIDs {
		if all || !a.IsDefault(id) {
			ids = append(ids, id)
		}
	}
	return a.writeEntries(w, ids)
}

func (a *Attr) writeEntries(w io.Writer, ids []ID) error {
	var b strings.Builder
	for i, id := range ids {
		d := &defs[id]
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "# %s [%s; default %s", d.summary, d.kind, d.defaultText())
		if r := d.limitText(); r != "" {
			b.WriteString("; ")
			b.WriteString(r)
		}
		fmt.Fprintf(&b, "; %s]\n%s=%s\n", d.components, d.name, a.text(id))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Doc returns the documentation of the attribute called name, like
// zf_attr_doc: lines "name:", "type:", "default:", "range:" (or "length:"),
// "components:", "doc:" and, where zocket differs from TCPDirect or adds the
// attribute, "zocket:". Errors wrap ENOENT.
func Doc(name string) (string, error) {
	id, ok := byName[name]
	if !ok {
		return "", getErr(name, syscall.ENOENT, "unknown attribute")
	}
	d := &defs[id]
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ntype: %s\ndefault: %s\n", d.name, d.kind, d.defaultText())
	if d.kind == kindString {
		if d.max > 0 {
			fmt.Fprintf(&b, "length: at most %d bytes\n", d.max)
		}
	} else {
		fmt.Fprintf(&b, "range: %s\n", d.rangeValues())
	}
	fmt.Fprintf(&b, "components: %s\ndoc: %s", d.components, d.summary)
	if d.detail != "" {
		b.WriteByte(' ')
		b.WriteString(d.detail)
	}
	b.WriteByte('\n')
	if d.dpdk != "" {
		fmt.Fprintf(&b, "zocket: %s\n", d.dpdk)
	}
	return b.String(), nil
}

// format returns a value of d in text form.
func (d *def) format(v int64, s string) string {
	switch d.kind {
	case kindInt:
		return strconv.FormatInt(v, 10)
	case kindBitmask:
		return "0x" + strconv.FormatUint(uint64(v), 16)
	}
	return s
}

// defaultText returns d's default as Doc and Write show it.
func (d *def) defaultText() string {
	t := d.format(d.defInt, d.defStr)
	if t == "" {
		t = `""`
	}
	if d.defaultDoc != "" {
		t += " (" + d.defaultDoc + ")"
	}
	return t
}

// rangeValues returns "[min, max]", with " or 0" when 0 is also allowed.
func (d *def) rangeValues() string {
	t := "[" + d.format(d.min, "") + ", " + d.format(d.max, "") + "]"
	if d.zeroOK {
		t += " or 0"
	}
	return t
}

// rangeText is the reason of an out-of-range error.
func (d *def) rangeText() string { return "out of range " + d.rangeValues() }

// limitText returns d's range or length limit for Write, or "".
func (d *def) limitText() string {
	if d.kind != kindString {
		return "range " + d.rangeValues()
	}
	if d.max > 0 {
		return "at most " + strconv.FormatInt(d.max, 10) + " bytes"
	}
	return ""
}

// parseInt parses decimal or 0x-prefixed hex, with an optional sign and
// surrounding space. overflow reports a well-formed number beyond int64.
func parseInt(s string) (v int64, ok, overflow bool) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	base := 10
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		base = 16
		t = t[2:]
	}
	if t == "" || t[0] == '+' || t[0] == '-' {
		return 0, false, false
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return 0, false, true
		}
		return 0, false, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false, true
		}
		return -int64(u), true, false
	}
	if u > 1<<63-1 {
		return 0, false, true
	}
	return int64(u), true, false
}

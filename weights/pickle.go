package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a Python unpickler that builds data and nothing else: a
// pickle is a program for a stack machine whose GLOBAL and REDUCE
// opcodes import and call any Python function, which is how a .pth file
// can run code. Here GLOBAL resolves only the few names a state dict
// needs (allowedGlobals) and refuses every other name as it reads it,
// REDUCE calls only those, and the opcodes that build arbitrary objects
// (INST, OBJ, NEWOBJ, EXT*) are refused outright. Memory grows at most
// linearly in the bytes read: every opcode pushes a bounded amount, and
// every length a pickle states is checked against the bytes left before
// anything is allocated for it.

// pyTuple is a Python tuple.
type pyTuple []any

// pyList is a Python list (or set); a pointer, since pickles append to
// lists after they are built and memoised.
type pyList struct{ items []any }

// pyDict is a Python dict (or OrderedDict), its keys in insertion order.
type pyDict struct {
	keys, vals []any
	index      map[any]int // for keys of comparable basic types
}

func newDict() *pyDict { return &pyDict{} }

func (d *pyDict) set(k, v any) {
	switch k.(type) {
	case string, int64, bool, float64:
		if d.index == nil {
			d.index = map[any]int{}
		}
		if i, ok := d.index[k]; ok {
			d.vals[i] = v
			return
		}
		d.index[k] = len(d.keys)
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *pyDict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// pyGlobal is a Python name a GLOBAL opcode resolved, one of
// allowedGlobals.
type pyGlobal struct{ module, name string }

func (g pyGlobal) String() string { return g.module + "." + g.name }

// pyNone is Python's None.
type pyNone struct{}

// pyMark is the stack's MARK, which a well-formed pickle never leaves
// where a value is expected.
type pyMark struct{}

// unpickler reads one pickle from r, of which at most left bytes may be
// read.
type unpickler struct {
	r    *bufio.Reader
	left int64 // bytes that may still be read
	read int64 // bytes read so far

	stack []any
	marks []int
	memo  map[int64]any
	made  int // containers built, which maxObjects bounds

	// global resolves a GLOBAL's module and name, or refuses it.
	global func(module, name string) (any, error)
	// call applies an allowed global to its arguments (REDUCE).
	call func(g pyGlobal, args pyTuple) (any, error)
	// persistent resolves a persistent id (BINPERSID), which torch uses
	// for storages.
	persistent func(pid any) (any, error)
}

// errPickle is what an ill-formed pickle gives; the message says why.
var errPickle = errors.New("invalid pickle")

func (u *unpickler) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errPickle, u.read, fmt.Sprintf(format, args...))
}

func (u *unpickler) readByte() (byte, error) {
	if u.left <= 0 {
		return 0, u.fail("it ends before its STOP opcode")
	}
	b, err := u.r.ReadByte()
	if err != nil {
		return 0, u.eof(err)
	}
	u.left--
	u.read++
	return b, nil
}

func (u *unpickler) eof(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return u.fail("it ends before its STOP opcode (truncated?)")
	}
	return err
}

// readN reads n bytes, refusing an n larger than what is left before
// allocating for it.
func (u *unpickler) readN(n uint64) ([]byte, error) {
	if n > uint64(u.left) {
		return nil, u.fail("an opcode states a length of %d bytes, more than the %d left", n, u.left)
	}
	// Grow the buffer as the bytes arrive, so that a length that lies
	// (in a stream shorter than it says) costs only what is there.
	b := make([]byte, 0, min(n, chunk))
	for uint64(len(b)) < n {
		k := int(min(n-uint64(len(b)), chunk))
		b = slices.Grow(b, k)
		if _, err := io.ReadFull(u.r, b[len(b):len(b)+k]); err != nil {
			return nil, u.eof(err)
		}
		b = b[:len(b)+k]
	}
	u.left -= int64(n)
	u.read += int64(n)
	return b, nil
}

// readLine reads up to a newline (protocol 0's text opcodes), which it
// drops.
func (u *unpickler) readLine() (string, error) {
	var sb strings.Builder
	for {
		b, err := u.readByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return sb.String(), nil
		}
		sb.WriteByte(b)
	}
}

// readSized reads the length that opcode op states (in lenSize(op)
// bytes), then that many bytes.
func (u *unpickler) readSized(op byte) ([]byte, error) {
	n, err := u.uint(lenSize(op))
	if err != nil {
		return nil, err
	}
	return u.readN(n)
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.readN(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

// maxObjects bounds the containers (tuples, lists, dicts, storages,
// tensors) one pickle builds, since one opcode byte can make one that
// costs a hundred bytes: with it, no pickle costs more than some 160
// MiB. A state dict needs about seven a tensor, so this allows some
// 150,000 tensors, a hundred times what the largest models have.
const maxObjects = 1 << 20

// pushNew pushes a newly built container, counting it.
func (u *unpickler) pushNew(v any) error {
	u.made++
	if u.made > maxObjects {
		return u.fail("it builds more than %d objects, more than any state dict needs", maxObjects)
	}
	u.push(v)
	return nil
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, u.fail("an opcode pops a value from an empty stack")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// pop2 pops the two values on top of the stack: below is the one pushed
// first.
func (u *unpickler) pop2() (below, top any, err error) {
	if top, err = u.pop(); err != nil {
		return nil, nil, err
	}
	if below, err = u.pop(); err != nil {
		return nil, nil, err
	}
	return below, top, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 || (len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1]) {
		return nil, u.fail("an opcode reads a value from an empty stack")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops the values above the last MARK, and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.fail("an opcode wants a MARK and there is none")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

// lenSize is the size in bytes of the length or index that follows an
// opcode.
func lenSize(op byte) int {
	switch op {
	case 0x8a, 0x8c, 'U', 'C', 'q', 'h': // LONG1, SHORT_BINUNICODE, SHORT_BINSTRING, SHORT_BINBYTES, BINPUT, BINGET
		return 1
	case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
		return 8
	}
	return 4 // LONG4, BINUNICODE, BINSTRING, BINBYTES, LONG_BINPUT, LONG_BINGET
}

// opcodes named in errors.
var opNames = map[byte]string{
	'i': "INST", 'o': "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
	0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
	'P': "PERSID",
}

// load runs the pickle to its STOP and returns the value it built.
func (u *unpickler) load() (any, error) {
	if u.memo == nil {
		u.memo = map[int64]any{}
	}
	for {
		op, err := u.readByte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x80: // PROTO
			p, err := u.readByte()
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, u.fail("pickle protocol %d; Python's pickle has protocols 0 to 5", p)
			}
		case 0x95: // FRAME: a length hint, nothing to do
			if _, err := u.uint(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if _, ok := v.(pyMark); ok {
				return nil, u.fail("STOP finds a MARK")
			}
			return v, nil

		case '(': // MARK
			u.marks = append(u.marks, len(u.stack))
		case '0': // POP
			if len(u.marks) > 0 && len(u.stack) == u.marks[len(u.marks)-1] {
				u.marks = u.marks[:len(u.marks)-1] // POP of a mark
				continue
			}
			if _, err := u.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := u.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			u.push(v)

		case 'N':
			u.push(pyNone{})
		case 0x88:
			u.push(true)
		case 0x89:
			u.push(false)
		case 'J': // BININT
			v, err := u.uint(4)
			if err != nil {
				return nil, err
			}
			u.push(int64(int32(uint32(v))))
		case 'K': // BININT1
			v, err := u.uint(1)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 'M': // BININT2
			v, err := u.uint(2)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 0x8a, 0x8b: // LONG1, LONG4
			b, err := u.readSized(op)
			if err != nil {
				return nil, err
			}
			u.push(decodeLong(b))
		case 'I', 'L': // INT, LONG (text)
			s, err := u.readLine()
			if err != nil {
				return nil, err
			}
			v, err := parseTextInt(op, s)
			if err != nil {
				return nil, u.fail("%v", err)
			}
			u.push(v)
		case 'G': // BINFLOAT, big-endian
			b, err := u.readN(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'F': // FLOAT (text)
			s, err := u.readLine()
			if err != nil {
				return nil, err
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, u.fail("FLOAT %.40q is not a number", s)
			}
			u.push(f)

		case 'X', 0x8c, 0x8d, 'T', 'U', 'B', 'C', 0x8e, 0x96: // strings and bytes with a length
			b, err := u.readSized(op)
			if err != nil {
				return nil, err
			}
			switch op {
			case 'X', 0x8c, 0x8d, 'T', 'U': // str (BINSTRING as torch.load decodes it)
				if !utf8.Valid(b) {
					return nil, u.fail("a str that is not UTF-8")
				}
				u.push(string(b))
			default:
				u.push(b)
			}
		case 'V': // UNICODE, raw-unicode-escape
			s, err := u.readLine()
			if err != nil {
				return nil, err
			}
			v, err := rawUnicodeEscape(s)
			if err != nil {
				return nil, u.fail("%v", err)
			}
			u.push(v)
		case 'S': // STRING, a quoted Python literal
			s, err := u.readLine()
			if err != nil {
				return nil, err
			}
			v, err := pyQuoted(s)
			if err != nil {
				return nil, u.fail("%v", err)
			}
			if !utf8.ValidString(v) {
				return nil, u.fail("a str that is not UTF-8")
			}
			u.push(v)

		case ')':
			if err := u.pushNew(pyTuple{}); err != nil {
				return nil, err
			}
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(u.stack)-n < 0 || (len(u.marks) > 0 && len(u.stack)-n < u.marks[len(u.marks)-1]) {
				return nil, u.fail("TUPLE%d with fewer than %d values on the stack", n, n)
			}
			t := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
			u.stack = u.stack[:len(u.stack)-n]
			if err := u.pushNew(t); err != nil {
				return nil, err
			}
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.pushNew(pyTuple(items)); err != nil {
				return nil, err
			}
		case 0x91: // FROZENSET
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.pushNew(pyTuple(items)); err != nil {
				return nil, err
			}
		case ']':
			if err := u.pushNew(&pyList{}); err != nil {
				return nil, err
			}
		case 0x8f: // EMPTY_SET
			if err := u.pushNew(&pyList{}); err != nil {
				return nil, err
			}
		case 'l': // LIST
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.pushNew(&pyList{items: items}); err != nil {
				return nil, err
			}
		case 'a', 'e', 0x90: // APPEND, APPENDS, ADDITEMS
			var items []any
			if op == 'a' {
				v, err := u.pop()
				if err != nil {
					return nil, err
				}
				items = []any{v}
			} else if items, err = u.popMark(); err != nil {
				return nil, err
			}
			l, err := u.top()
			if err != nil {
				return nil, err
			}
			list, ok := l.(*pyList)
			if !ok {
				return nil, u.fail("APPEND to a %s, not a list", typeName(l))
			}
			list.items = append(list.items, items...)
		case '}':
			if err := u.pushNew(newDict()); err != nil {
				return nil, err
			}
		case 'd': // DICT
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, u.fail("DICT with an odd number of keys and values")
			}
			d := newDict()
			for i := 0; i < len(items); i += 2 {
				d.set(items[i], items[i+1])
			}
			if err := u.pushNew(d); err != nil {
				return nil, err
			}
		case 's', 'u': // SETITEM, SETITEMS
			var items []any
			if op == 's' {
				k, v, err := u.pop2()
				if err != nil {
					return nil, err
				}
				items = []any{k, v}
			} else if items, err = u.popMark(); err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, u.fail("SETITEMS with an odd number of keys and values")
			}
			t, err := u.top()
			if err != nil {
				return nil, err
			}
			d, ok := t.(*pyDict)
			if !ok {
				return nil, u.fail("SETITEM on a %s, not a dict", typeName(t))
			}
			for i := 0; i < len(items); i += 2 {
				d.set(items[i], items[i+1])
			}

		case 'q', 'r', 'p', 0x94: // BINPUT, LONG_BINPUT, PUT, MEMOIZE
			var idx int64
			switch op {
			case 'q', 'r':
				v, err := u.uint(lenSize(op))
				if err != nil {
					return nil, err
				}
				idx = int64(v)
			case 'p':
				s, err := u.readLine()
				if err != nil {
					return nil, err
				}
				if idx, err = strconv.ParseInt(s, 10, 64); err != nil || idx < 0 {
					return nil, u.fail("PUT %.40q is not a memo index", s)
				}
			default:
				idx = int64(len(u.memo))
			}
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			u.memo[idx] = v
		case 'h', 'j', 'g': // BINGET, LONG_BINGET, GET
			var idx int64
			if op == 'g' {
				s, err := u.readLine()
				if err != nil {
					return nil, err
				}
				if idx, err = strconv.ParseInt(s, 10, 64); err != nil {
					return nil, u.fail("GET %.40q is not a memo index", s)
				}
			} else {
				v, err := u.uint(lenSize(op))
				if err != nil {
					return nil, err
				}
				idx = int64(v)
			}
			v, ok := u.memo[idx]
			if !ok {
				return nil, u.fail("GET of memo %d, which was never PUT", idx)
			}
			u.push(v)

		case 'c', 0x93: // GLOBAL (module and name on two lines), STACK_GLOBAL (on the stack)
			var mod, name string
			if op == 'c' {
				if mod, err = u.readLine(); err == nil {
					name, err = u.readLine()
				}
				if err != nil {
					return nil, err
				}
			} else {
				m, n, err := u.pop2()
				if err != nil {
					return nil, err
				}
				var ok1, ok2 bool
				mod, ok1 = m.(string)
				name, ok2 = n.(string)
				if !ok1 || !ok2 {
					return nil, u.fail("STACK_GLOBAL of a %s and a %s, not two strings", typeName(m), typeName(n))
				}
			}
			g, err := u.global(mod, name)
			if err != nil {
				return nil, err
			}
			u.push(g)
		case 'R': // REDUCE
			f, a, err := u.pop2()
			if err != nil {
				return nil, err
			}
			g, ok := f.(pyGlobal)
			if !ok {
				return nil, u.fail("REDUCE calls a %s, not a global", typeName(f))
			}
			args, ok := a.(pyTuple)
			if !ok {
				return nil, u.fail("REDUCE calls %s with a %s, not a tuple of arguments", g, typeName(a))
			}
			v, err := u.call(g, args)
			if err != nil {
				return nil, err
			}
			if err := u.pushNew(v); err != nil {
				return nil, err
			}
		case 'b': // BUILD
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			obj, err := u.top()
			if err != nil {
				return nil, err
			}
			// An OrderedDict's state is its attributes: a state dict's
			// _metadata (the modules' versions), which loading ignores.
			if _, ok := obj.(*pyDict); !ok {
				return nil, u.fail("BUILD sets the state of a %s; only a dict's is accepted", typeName(obj))
			}
			if _, ok := state.(*pyDict); !ok {
				if _, ok := state.(pyNone); !ok {
					return nil, u.fail("BUILD sets a dict's state to a %s", typeName(state))
				}
			}
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.persistent(pid)
			if err != nil {
				return nil, err
			}
			if err := u.pushNew(v); err != nil {
				return nil, err
			}

		default:
			if name, ok := opNames[op]; ok {
				return nil, u.fail("opcode %s, which builds objects a state dict does not hold; refused", name)
			}
			return nil, u.fail("unknown opcode 0x%02x", op)
		}
	}
}

// decodeLong decodes a little-endian two's-complement integer, as an
// int64 when it fits, else a *big.Int.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if shift := 64 - 8*uint(len(b)); shift > 0 {
			return int64(v<<shift) >> shift // sign-extend
		}
		return int64(v)
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// parseTextInt parses protocol 0's INT (where "01" and "00" are True
// and False) and LONG (with a trailing L).
func parseTextInt(op byte, s string) (any, error) {
	if op == 'I' {
		switch s {
		case "01":
			return true, nil
		case "00":
			return false, nil
		}
	} else {
		s = strings.TrimSuffix(s, "L")
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	if len(s) > 4300 { // Python's own limit on decimal digits
		return nil, fmt.Errorf("integer of %d digits", len(s))
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("%.40q is not an integer", s)
	}
	return v, nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape: \uXXXX and
// \UXXXXXXXX escapes; every other byte is a Latin-1 character.
func rawUnicodeEscape(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return "", fmt.Errorf("truncated \\%c escape in UNICODE", s[i+1])
			}
			r, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
			if err != nil || r > utf8.MaxRune {
				return "", fmt.Errorf("bad \\%c escape in UNICODE", s[i+1])
			}
			sb.WriteRune(rune(r))
			i += 1 + n
			continue
		}
		sb.WriteRune(rune(s[i]))
	}
	return sb.String(), nil
}

// pyQuoted decodes protocol 0's STRING, a Python string literal in
// single or double quotes.
func pyQuoted(s string) (string, error) {
	if len(s) < 2 || s[0] != s[len(s)-1] || (s[0] != '\'' && s[0] != '"') {
		return "", fmt.Errorf("STRING %.40q is not quoted", s)
	}
	s = s[1 : len(s)-1]
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("STRING ends in a backslash")
		}
		switch c = s[i]; c {
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case '\\', '\'', '"':
			sb.WriteByte(c)
		case 'x':
			if i+3 > len(s) {
				return "", fmt.Errorf("truncated \\x escape in STRING")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape in STRING")
			}
			sb.WriteByte(byte(v))
			i += 2
		default:
			sb.WriteByte('\\')
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

// typeName names a value's Python type, for errors. It never looks
// inside the value, which may hold itself.
func typeName(v any) string {
	switch v := v.(type) {
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return v.String()
	case pyMark:
		return "MARK"
	case *pthStorage:
		return "storage"
	case *pthTensor:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

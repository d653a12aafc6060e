package compact

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"
)

// Decode decodes src, written by Append or by securecookie.GobEncoder, into
// dst, as sessions.CompactSerializer.Deserialize documents, but it keeps
// src: the strings it decodes share its memory, so src must not be modified
// afterwards. When some entries of a top-level map[any]any are left out,
// the error is a *DroppedError; any other error leaves *dst as it was.
func Decode(src []byte, dst any) error {
	switch {
	case dst == nil:
		return fmt.Errorf("%w: destination is nil", ErrDecode)
	case len(src) == 0:
		return fmt.Errorf("%w: empty input", ErrDecode)
	case src[0] != Magic && src[0] >= 0x80 && src[0] <= 0xF7:
		return fmt.Errorf("%w: unknown format version 0x%02X", ErrDecode, src[0])
	case src[0] != Magic:
		_, err := decodeGob(src, dst, -1)
		return err
	}
	d := decoder{src: src, pos: 1}
	if p, ok := dst.(*string); ok && p != nil && len(src) > 1 && src[1] == TagString {
		d.pos++ // a session ID, decoded without boxing it
		if s := d.string(); d.end() == nil {
			*p = s
		}
		return d.err
	}
	v := d.value(0)
	if d.end() == nil {
		d.err = store(v, dst)
	}
	if d.err == nil && d.dropped != nil {
		return d.dropped
	}
	return d.err
}

// store sets *dst to v.
func store(v, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer {
		return fmt.Errorf("%w: destination of type %T is not a pointer", ErrDecode, dst)
	} else if rv.IsNil() {
		return fmt.Errorf("%w: destination is a nil %T", ErrDecode, dst)
	}
	switch elem := rv.Elem(); {
	case v != nil && reflect.TypeOf(v).AssignableTo(elem.Type()):
		elem.Set(reflect.ValueOf(v))
	case v == nil && (elem.Kind() == reflect.Interface || elem.Kind() == reflect.Map ||
		elem.Kind() == reflect.Slice || elem.Kind() == reflect.Pointer):
		elem.SetZero()
	default:
		return fmt.Errorf("%w: cannot store a value of type %T in a destination of type %T", ErrDecode, v, dst)
	}
	return nil
}

// decoder reads one compact-format value. Every length and count is checked
// against the input left before anything is allocated for it. The first
// error is kept in err; every read after it returns zero values.
type decoder struct {
	src []byte
	pos int
	err error
	// While a value of the top-level map is decoded, lenient is set and a
	// gob value that fails, or an int or uint too large for this platform's,
	// is recorded in soft instead of failing the input; the entry is then
	// left out, and recorded in dropped.
	lenient bool
	soft    error
	dropped *DroppedError
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrDecode}, args...)...)
	}
}

// end checks that the value took up the whole input.
func (d *decoder) end() error {
	if d.err == nil && d.pos != len(d.src) {
		d.fail("%d bytes of trailing data after offset %d", len(d.src)-d.pos, d.pos)
	}
	return d.err
}

// fixed returns the next n bytes of the input (nil after an error).
func (d *decoder) fixed(n int) []byte {
	if d.err == nil && len(d.src)-d.pos < n {
		d.fail("input truncated at offset %d", len(d.src))
	}
	if d.err != nil {
		return nil
	}
	d.pos += n
	return d.src[d.pos-n : d.pos]
}

// varint reads a zig-zag varint (signed) or a uvarint, as its 64 bits.
func (d *decoder) varint(signed bool) uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.src[d.pos:])
	if signed {
		var i int64
		i, n = binary.Varint(d.src[d.pos:])
		x = uint64(i)
	}
	if n == 0 {
		d.fail("input truncated at offset %d", len(d.src))
	} else if n < 0 {
		d.fail("integer overflows 64 bits at offset %d", d.pos)
	}
	d.pos += max(n, 0)
	return x
}

// bytes reads a length and returns that many bytes of the input, uncopied.
func (d *decoder) bytes() []byte {
	at := d.pos
	n := d.varint(false)
	if d.err == nil && n > uint64(len(d.src)-d.pos) {
		d.fail("length %d at offset %d exceeds the %d bytes left", n, at, len(d.src)-d.pos)
	}
	return d.fixed(int(n)) // nil after an error
}

// string reads a length-prefixed string, which shares the input's memory.
func (d *decoder) string() string {
	b := d.bytes()
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// count reads the element count of a slice or map; each element takes at
// least minSize bytes of input, which bounds the count.
func (d *decoder) count(minSize int) (n int, isNil bool) {
	at := d.pos
	c := d.varint(false)
	if left := len(d.src) - d.pos; c > 0 && c-1 > uint64(left/minSize) {
		d.fail("count %d at offset %d exceeds the %d bytes left", c-1, at, left)
	}
	if d.err != nil || c == 0 {
		return 0, d.err == nil
	}
	return int(c - 1), false
}

// integers converts the 64 bits read for each integer tag to the tag's
// type; ok is false when the value does not fit it.
var integers = [...]func(x uint64) (v any, ok bool){
	TagInt: fit[int], TagInt16: fit[int16], TagInt32: fit[int32], TagInt64: fit[int64],
	TagUint: fit[uint], TagUint16: fit[uint16], TagUint32: fit[uint32], TagUint64: fit[uint64],
}

// fit converts x to T and reports whether that kept its value (converting
// back sign-extends a signed T, so one test serves both kinds).
func fit[T int | int16 | int32 | int64 | uint | uint16 | uint32 | uint64](x uint64) (any, bool) {
	return T(x), uint64(T(x)) == x
}

// value decodes one value.
func (d *decoder) value(depth int) any {
	at := d.pos
	b := d.fixed(1)
	if b == nil {
		return nil
	}
	switch tag := b[0]; tag {
	case TagNil:
	case TagFalse, TagTrue:
		return tag == TagTrue
	case TagInt, TagInt16, TagInt32, TagInt64, TagUint, TagUint16, TagUint32, TagUint64:
		v, ok := integers[tag](d.varint(tag <= TagInt64))
		if !ok && d.lenient && (tag == TagInt || tag == TagUint) {
			// Written where an int has 64 bits, read where it has 32: a
			// value that no longer fits its type, as a gob one can be.
			d.soft = cmp.Or(d.soft, fmt.Errorf("%w: %T out of range at offset %d", ErrDecode, v, at))
		} else if !ok {
			d.fail("%T out of range at offset %d", v, at)
		}
		return v
	case TagInt8, TagUint8:
		if b := d.fixed(1); b != nil && tag == TagInt8 {
			return int8(b[0])
		} else if b != nil {
			return b[0]
		}
	case TagFloat32:
		if b := d.fixed(4); b != nil {
			return math.Float32frombits(binary.LittleEndian.Uint32(b))
		}
	case TagFloat64:
		if b := d.fixed(8); b != nil {
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
	case TagString:
		return d.string()
	case TagBytes:
		if n, isNil := d.count(1); !isNil {
			return bytes.Clone(d.fixed(n)) // never shared: the caller may write to it
		}
		return []byte(nil)
	case TagTime:
		var t time.Time
		if err := t.UnmarshalBinary(d.bytes()); err != nil {
			d.fail("time.Time at offset %d: %w", at, err) // a no-op if bytes failed
		}
		return t
	case TagGob:
		if b := d.bytes(); d.err == nil {
			v, err := decodeGob(b, nil, at)
			if err != nil && d.lenient {
				d.soft = cmp.Or(d.soft, err)
			} else if err != nil {
				d.err = err
			}
			return v
		}
	case TagList, TagStrings, TagStringMap, TagMap:
		if depth >= MaxDepth {
			d.fail("slices and maps nested more than %d deep at offset %d", MaxDepth, at)
			return nil
		}
		return d.container(tag, depth)
	default:
		d.fail("unknown type tag 0x%02X at offset %d", tag, at)
	}
	return nil
}

// nils holds the nil slice or map of each container tag's type.
var nils = [...]any{TagList: []any(nil), TagStrings: []string(nil),
	TagStringMap: map[string]any(nil), TagMap: map[any]any(nil)}

// container decodes a slice or a map. Duplicate keys would let a small
// input reserve a huge map: the size hint is capped, past it the map grows
// with its actual entries.
func (d *decoder) container(tag byte, depth int) any {
	minSize := 1
	if tag == TagStringMap || tag == TagMap {
		minSize = 2 // a key and a value
	}
	n, isNil := d.count(minSize)
	switch {
	case isNil:
		return nils[tag]
	case tag == TagList:
		l := make([]any, n)
		for i := range l {
			l[i] = d.value(depth + 1)
		}
		return l
	case tag == TagStrings:
		l := make([]string, n)
		for i := range l {
			l[i] = d.string()
		}
		return l
	case tag == TagStringMap:
		m := make(map[string]any, min(n, 64))
		for i := 0; i < n && d.err == nil; i++ {
			k := d.string()
			m[k] = d.value(depth + 1)
		}
		return m
	}
	m := make(map[any]any, min(n, 64))
	for i := 0; i < n && d.err == nil; i++ {
		k := d.key(depth)
		if d.err != nil {
			break // k may be a value that cannot be a key
		}
		if depth > 0 {
			m[k] = d.value(depth + 1)
			continue
		}
		d.lenient, d.soft = true, nil // the top-level map: see lenient
		v := d.value(depth + 1)
		d.lenient = false
		switch {
		case d.soft == nil:
			m[k] = v
		case d.dropped == nil:
			d.dropped = &DroppedError{Keys: []any{k}, Err: d.soft}
		default:
			d.dropped.Keys = append(d.dropped.Keys, k)
		}
	}
	return m
}

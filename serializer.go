package sessions

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// CompactSerializer is the default serializer of this package. It
// implements securecookie.Serializer (github.com/gorilla/securecookie
// v1.1.2) with a compact binary format that encodes and decodes a small
// session about forty times faster than encoding/gob, in fewer bytes, and it reads gob data too,
// so sessions written by gorilla/sessions (securecookie.GobEncoder) keep
// working.
//
// It encodes these types itself and gives back the same Go type when
// decoding (an int comes back as an int, a uint8 as a uint8): nil, bool,
// int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
// float32, float64, string, []byte, time.Time, []interface{}, []string,
// map[string]interface{} and map[interface{}]interface{}, nested to at
// most 32 levels of slices and maps. Inside those, a value of any other
// type is encoded with encoding/gob as an interface value, so it must be
// registered with gob.Register, exactly as with gorilla/sessions; an
// unregistered type makes Serialize fail with an error wrapping
// ErrSerialize. A top-level value of any other type is written as a plain
// gob stream, as securecookie.GobEncoder would write it.
//
// Decoded time.Time values lose their monotonic clock reading and carry
// either time.UTC, time.Local or a fixed zone, as with gob (so a decoded
// time.Time map key is not == to the original one). Strings decoded
// from one input share a single copy of it, so a string kept from a
// session keeps that copy alive.
//
// CompactSerializer holds no state of its own (the buffer pool and the table
// of interned map keys it shares are synchronized) and is safe for
// concurrent use by multiple goroutines.
type CompactSerializer struct{}

// compactMagic is the first byte of every value in the compact format; it
// also names the format version (version 1).
//
// A gob stream starts with the byte count of its first message, as a gob
// unsigned integer: either one byte 0x00–0x7F holding the value, or a byte
// 0xF8–0xFF holding the negated count (1 to 8) of the big-endian bytes that
// follow. The gob decoder rejects any other first byte (the count it stands
// for is larger than 8), so no gob stream, valid or not, starts with a byte
// in 0x80–0xF7, and a first byte in that range tells the compact format
// apart from gob without ambiguity. 0xC1 is in that range and is, in
// addition, never valid in UTF-8, so no JSON or other text format starts
// with it either. Later versions of the format will take other bytes of
// that range; Deserialize reports an unknown version as an error rather
// than handing it to gob.
const compactMagic byte = 0xC1

// Type tags of the compact format. Every value is one tag byte followed by
// its payload:
//
//	tag   type                          payload
//	0x00  nil                           none
//	0x01  bool false                    none
//	0x02  bool true                     none
//	0x03  int                           zig-zag varint (binary.AppendVarint)
//	0x04  int8                          one byte, two's complement
//	0x05  int16                         zig-zag varint
//	0x06  int32                         zig-zag varint
//	0x07  int64                         zig-zag varint
//	0x08  uint                          uvarint
//	0x09  uint8                         one byte
//	0x0A  uint16                        uvarint
//	0x0B  uint32                        uvarint
//	0x0C  uint64                        uvarint
//	0x0D  float32                       IEEE 754 bits, 4 bytes little endian
//	0x0E  float64                       IEEE 754 bits, 8 bytes little endian
//	0x0F  string                        uvarint length, bytes
//	0x10  []byte                        count, bytes
//	0x11  time.Time                     uvarint length, Time.MarshalBinary output
//	0x12  []interface{}                 count, values
//	0x13  []string                      count, each: uvarint length, bytes
//	0x14  map[string]interface{}        count, each: uvarint length, key bytes, value
//	0x15  map[interface{}]interface{}   count, each: key value, value
//	0x16  any other type                uvarint length, gob stream of the value
//	                                    encoded as an interface{}
//
// A count is a uvarint holding the number of elements plus one; 0 stands
// for a nil slice or map, so that nil and empty survive the round trip.
// Integer types narrower than 64 bits are range-checked when decoding. A
// serialized value is the magic byte followed by exactly one value.
const (
	compactTagNil       byte = 0x00
	compactTagFalse     byte = 0x01
	compactTagTrue      byte = 0x02
	compactTagInt       byte = 0x03
	compactTagInt8      byte = 0x04
	compactTagInt16     byte = 0x05
	compactTagInt32     byte = 0x06
	compactTagInt64     byte = 0x07
	compactTagUint      byte = 0x08
	compactTagUint8     byte = 0x09
	compactTagUint16    byte = 0x0A
	compactTagUint32    byte = 0x0B
	compactTagUint64    byte = 0x0C
	compactTagFloat32   byte = 0x0D
	compactTagFloat64   byte = 0x0E
	compactTagString    byte = 0x0F
	compactTagBytes     byte = 0x10
	compactTagTime      byte = 0x11
	compactTagList      byte = 0x12
	compactTagStrings   byte = 0x13
	compactTagStringMap byte = 0x14
	compactTagMap       byte = 0x15
	compactTagGob       byte = 0x16
)

const (
	// compactMaxDepth bounds the nesting of slices and maps, when encoding
	// (which also stops a map that contains itself) and when decoding (which
	// bounds the decoder's recursion on hostile input).
	compactMaxDepth = 32

	// compactMaxMapHint caps the size hint given to make for a decoded map.
	// The declared count is already checked against the remaining input, but
	// duplicate keys would let a small input reserve a map far larger than
	// what it fills; past the hint the map grows with its actual entries.
	compactMaxMapHint = 64

	// compactMaxInternedKeys and compactMaxInternedKeyLen bound the table
	// of interned map keys (see compactKeys).
	compactMaxInternedKeys   = 512
	compactMaxInternedKeyLen = 64

	// compactMaxPooledBuffer is the largest buffer Serialize returns to its
	// pool, so that one huge session does not pin memory forever.
	compactMaxPooledBuffer = 64 << 10
)

// Why other types are encoded with gob one value at a time inside the
// compact format, rather than the whole map falling back to gob as soon as
// one value is of another type:
//   - The common values (strings, numbers, flashes) stay on the fast path;
//     the cost of gob is paid only for the custom values, not for the
//     whole session.
//   - What must be registered is exactly what gorilla/sessions asks for:
//     gob encodes the values of a map[interface{}]interface{} as interface
//     values anyway, so those types need gob.Register there too, and gob's
//     pre-registered types (such as []int) work without it in both.
//   - The output does not change format depending on the content, and the
//     encoder never has to walk the values twice (once to check, once to
//     encode) or to start over in gob after a partial encoding.
//
// The price is size: each gob-encoded value carries its own gob type
// description, so a session holding many values of the same custom struct
// is larger than the same session written whole with gob. Values of the
// types listed on CompactSerializer are much smaller than with gob.
//
// At the top level, a value of a type the compact format does not know is
// written as a plain gob stream: then it needs no gob.Register (gob knows the
// static type), exactly as with securecookie.GobEncoder.

func init() {
	// Flashes are stored as []interface{}, and gob needs the type registered
	// to decode the flashes of sessions written by gorilla/sessions, which
	// registers it the same way (registering it twice is harmless).
	gob.Register([]interface{}{})
}

// compactBufPool holds buffers for Serialize, which copies the encoding out
// of them so that it allocates only its result.
var compactBufPool = sync.Pool{
	New: func() interface{} {
		b := make([]byte, 0, 256)
		return &b
	},
}

// Serialize encodes src and returns a newly allocated slice. Errors wrap
// ErrSerialize.
func (s CompactSerializer) Serialize(src interface{}) ([]byte, error) {
	bp := compactBufPool.Get().(*[]byte)
	b, err := s.AppendSerialize((*bp)[:0], src)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= compactMaxPooledBuffer {
		*bp = b[:0]
		compactBufPool.Put(bp)
	}
	return out, err
}

// AppendSerialize appends the encoding of src to dst and returns the
// extended slice; with a dst of sufficient capacity, a value made only of
// the types the compact format knows is encoded without allocating. On
// error it returns dst[:len(dst)] (what was appended is dropped) and an
// error wrapping ErrSerialize.
func (CompactSerializer) AppendSerialize(dst []byte, src interface{}) ([]byte, error) {
	start := len(dst)
	var err error
	if compactKnows(src) {
		dst = append(dst, compactMagic)
		dst, err = compactAppendValue(dst, src, 0)
	} else {
		dst, err = compactAppendGobStream(dst, src)
	}
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// compactKnows reports whether the compact format encodes v's type itself.
func compactKnows(v interface{}) bool {
	switch v.(type) {
	case nil, bool, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, float32, float64,
		string, []byte, time.Time, []interface{}, []string,
		map[string]interface{}, map[interface{}]interface{}:
		return true
	}
	return false
}

// compactAppendValue appends the tag and payload of v. depth is the number
// of slices and maps that enclose v.
func compactAppendValue(dst []byte, v interface{}, depth int) ([]byte, error) {
	switch x := v.(type) {
	case string:
		dst = append(dst, compactTagString)
		dst = binary.AppendUvarint(dst, uint64(len(x)))
		return append(dst, x...), nil
	case int:
		return binary.AppendVarint(append(dst, compactTagInt), int64(x)), nil
	case nil:
		return append(dst, compactTagNil), nil
	case bool:
		if x {
			return append(dst, compactTagTrue), nil
		}
		return append(dst, compactTagFalse), nil
	case int8:
		return append(dst, compactTagInt8, byte(x)), nil
	case int16:
		return binary.AppendVarint(append(dst, compactTagInt16), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(dst, compactTagInt32), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(dst, compactTagInt64), x), nil
	case uint:
		return binary.AppendUvarint(append(dst, compactTagUint), uint64(x)), nil
	case uint8:
		return append(dst, compactTagUint8, x), nil
	case uint16:
		return binary.AppendUvarint(append(dst, compactTagUint16), uint64(x)), nil
	case uint32:
		return binary.AppendUvarint(append(dst, compactTagUint32), uint64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(dst, compactTagUint64), x), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(dst, compactTagFloat32), math.Float32bits(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, compactTagFloat64), math.Float64bits(x)), nil
	case []byte:
		dst = compactAppendCount(append(dst, compactTagBytes), len(x), x == nil)
		return append(dst, x...), nil
	case time.Time:
		b, err := x.MarshalBinary()
		if err != nil {
			return dst, fmt.Errorf("%w: time.Time: %w", ErrSerialize, err)
		}
		dst = binary.AppendUvarint(append(dst, compactTagTime), uint64(len(b)))
		return append(dst, b...), nil
	case []interface{}:
		if depth >= compactMaxDepth {
			return dst, compactTooDeep()
		}
		dst = compactAppendCount(append(dst, compactTagList), len(x), x == nil)
		var err error
		for _, e := range x {
			if dst, err = compactAppendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case []string:
		if depth >= compactMaxDepth {
			return dst, compactTooDeep()
		}
		dst = compactAppendCount(append(dst, compactTagStrings), len(x), x == nil)
		for _, e := range x {
			dst = binary.AppendUvarint(dst, uint64(len(e)))
			dst = append(dst, e...)
		}
		return dst, nil
	case map[string]interface{}:
		if depth >= compactMaxDepth {
			return dst, compactTooDeep()
		}
		dst = compactAppendCount(append(dst, compactTagStringMap), len(x), x == nil)
		var err error
		for k, e := range x {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			if dst, err = compactAppendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case map[interface{}]interface{}:
		if depth >= compactMaxDepth {
			return dst, compactTooDeep()
		}
		dst = compactAppendCount(append(dst, compactTagMap), len(x), x == nil)
		var err error
		for k, e := range x {
			if dst, err = compactAppendValue(dst, k, depth+1); err != nil {
				return dst, err
			}
			if dst, err = compactAppendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
		return dst, nil
	default:
		return compactAppendGobValue(dst, v)
	}
}

// compactAppendCount appends the element count of a slice or map: n+1, or
// 0 for nil.
func compactAppendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

func compactTooDeep() error {
	return fmt.Errorf("%w: slices and maps nested more than %d deep (or containing themselves)", ErrSerialize, compactMaxDepth)
}

// compactAppendGobValue appends v, of a type the compact format does not
// know, as a gob stream of an interface value (which needs v's type to be
// registered with gob.Register).
func compactAppendGobValue(dst []byte, v interface{}) (out []byte, err error) {
	var buf bytes.Buffer
	defer func() {
		// A GobEncode or MarshalBinary method of the user's type may panic;
		// report it as an error rather than crashing the request.
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("%w: value of type %T: panic in gob: %v", ErrSerialize, v, r)
		}
	}()
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return dst, fmt.Errorf("%w: value of type %T: %w", ErrSerialize, v, err)
	}
	dst = binary.AppendUvarint(append(dst, compactTagGob), uint64(buf.Len()))
	return append(dst, buf.Bytes()...), nil
}

// compactAppendGobStream appends a plain gob stream of v, as
// securecookie.GobEncoder writes it.
func compactAppendGobStream(dst []byte, v interface{}) (out []byte, err error) {
	buf := bytes.NewBuffer(dst)
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("%w: value of type %T: panic in gob: %v", ErrSerialize, v, r)
		}
	}()
	if err := gob.NewEncoder(buf).Encode(v); err != nil {
		return dst, fmt.Errorf("%w: value of type %T: %w", ErrSerialize, v, err)
	}
	return buf.Bytes(), nil
}

// Deserialize decodes src, written by Serialize or by
// securecookie.GobEncoder (gob), into dst, which must be a non-nil pointer.
//
// For data in the compact format, dst may be a *map[interface{}]interface{}
// (the session values), a *string (a session ID), an *interface{} (which
// receives the value with its original type), or a pointer to any type the
// decoded value is assignable to. The value pointed to is replaced, never
// merged: a map in *dst is left untouched and *dst is set to a new map.
// Gob data is handed to encoding/gob, with its rules: it merges into an
// existing map, and it cannot decode a gob stream of a concrete type into
// an *interface{}.
//
// Any input, however malformed, gives a value or an error wrapping
// ErrDeserialize, never a panic. The compact format allocates at most about
// 32 times len(src). Gob data is walked first and rejected if it could make
// encoding/gob allocate out of proportion to its size (a map declaring more
// entries than there are bytes), if its values nest more than 100 deep, or
// if it is too intricate to check (many interface values in struct fields
// that skipping would read differently); gob's encoder writes none of these
// for session values. GobDecode and UnmarshalBinary methods of registered
// types get their bytes as they are and must be robust themselves.
func (CompactSerializer) Deserialize(src []byte, dst interface{}) error {
	if dst == nil {
		return fmt.Errorf("%w: destination is nil", ErrDeserialize)
	}
	if len(src) == 0 {
		return fmt.Errorf("%w: empty input", ErrDeserialize)
	}
	switch first := src[0]; {
	case first == compactMagic:
		return compactDecodeInto(src, dst)
	case first >= 0x80 && first <= 0xF7:
		return fmt.Errorf("%w: unknown format version 0x%02X", ErrDeserialize, first)
	default:
		return compactDecodeGobStream(src, dst)
	}
}

// compactDecodeInto decodes the compact-format src (magic byte included)
// into dst.
func compactDecodeInto(src []byte, dst interface{}) error {
	d := compactDecoder{src: src, pos: 1}
	// A session ID is decoded without boxing it into an interface.
	if p, ok := dst.(*string); ok && len(src) > 1 && src[1] == compactTagString {
		if p == nil {
			return compactNilPointer(dst)
		}
		d.pos++
		b, err := d.bytes()
		if err != nil {
			return err
		}
		if err := d.end(); err != nil {
			return err
		}
		*p = string(b)
		return nil
	}
	v, err := d.value(0)
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	switch p := dst.(type) {
	case *map[interface{}]interface{}:
		m, ok := v.(map[interface{}]interface{})
		if !ok && v != nil {
			return compactWrongType(v, dst)
		}
		if p == nil {
			return compactNilPointer(dst)
		}
		*p = m
		return nil
	case *interface{}:
		if p == nil {
			return compactNilPointer(dst)
		}
		*p = v
		return nil
	case *string:
		s, ok := v.(string)
		if !ok {
			return compactWrongType(v, dst)
		}
		if p == nil {
			return compactNilPointer(dst)
		}
		*p = s
		return nil
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer {
		return fmt.Errorf("%w: destination of type %T is not a pointer", ErrDeserialize, dst)
	}
	if rv.IsNil() {
		return compactNilPointer(dst)
	}
	elem := rv.Elem()
	if v == nil {
		switch elem.Kind() {
		case reflect.Interface, reflect.Map, reflect.Slice, reflect.Pointer:
			elem.SetZero()
			return nil
		}
		return compactWrongType(v, dst)
	}
	vv := reflect.ValueOf(v)
	if !vv.Type().AssignableTo(elem.Type()) {
		return compactWrongType(v, dst)
	}
	elem.Set(vv)
	return nil
}

func compactNilPointer(dst interface{}) error {
	return fmt.Errorf("%w: destination is a nil %T", ErrDeserialize, dst)
}

func compactWrongType(v, dst interface{}) error {
	return fmt.Errorf("%w: cannot store a value of type %T in a destination of type %T", ErrDeserialize, v, dst)
}

// compactDecodeGobStream decodes a plain gob stream into dst.
func compactDecodeGobStream(src []byte, dst interface{}) (err error) {
	defer func() {
		// encoding/gob is not hardened against hostile input and a
		// GobDecode or UnmarshalBinary method of a registered type may
		// panic on bytes it did not write: never let that crash a request.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic in gob: %v", ErrDeserialize, r)
		}
	}()
	if err := compactCheckGob(src); err != nil {
		return fmt.Errorf("%w: %w", ErrDeserialize, err)
	}
	if err := gob.NewDecoder(bytes.NewReader(src)).Decode(dst); err != nil {
		return fmt.Errorf("%w: %w", ErrDeserialize, err)
	}
	return nil
}

// compactDecoder reads one compact-format value. Every length and count is
// checked against the input left before anything is allocated for it.
type compactDecoder struct {
	src []byte
	pos int
	// arena is a copy of src[arenaBase:], made at the first non-empty
	// string: every string decoded is a substring of it, so decoding costs
	// one allocation for all the strings rather than one each.
	arena     string
	arenaBase int
}

func (d *compactDecoder) truncated() error {
	return fmt.Errorf("%w: input truncated at offset %d", ErrDeserialize, len(d.src))
}

// end checks that the value took up the whole input.
func (d *compactDecoder) end() error {
	if d.pos != len(d.src) {
		return fmt.Errorf("%w: %d bytes of trailing data after offset %d", ErrDeserialize, len(d.src)-d.pos, d.pos)
	}
	return nil
}

func (d *compactDecoder) byte() (byte, error) {
	if d.pos >= len(d.src) {
		return 0, d.truncated()
	}
	b := d.src[d.pos]
	d.pos++
	return b, nil
}

// fixed returns the next n bytes of the input.
func (d *compactDecoder) fixed(n int) ([]byte, error) {
	if len(d.src)-d.pos < n {
		return nil, d.truncated()
	}
	b := d.src[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *compactDecoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.src[d.pos:])
	if n == 0 {
		return 0, d.truncated()
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: integer overflows 64 bits at offset %d", ErrDeserialize, d.pos)
	}
	d.pos += n
	return x, nil
}

func (d *compactDecoder) varint() (int64, error) {
	x, n := binary.Varint(d.src[d.pos:])
	if n == 0 {
		return 0, d.truncated()
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: integer overflows 64 bits at offset %d", ErrDeserialize, d.pos)
	}
	d.pos += n
	return x, nil
}

// bytes reads a uvarint length and returns that many bytes of the input,
// without copying them.
func (d *compactDecoder) bytes() ([]byte, error) {
	at := d.pos
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.src)-d.pos) {
		return nil, fmt.Errorf("%w: length %d at offset %d exceeds the %d bytes left", ErrDeserialize, n, at, len(d.src)-d.pos)
	}
	b := d.src[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

// string reads a length-prefixed string.
func (d *compactDecoder) string() (string, error) {
	b, err := d.bytes()
	if err != nil {
		return "", err
	}
	return d.substring(b), nil
}

// substring returns b, the bytes of the input just read (ending at d.pos),
// as a string that shares the arena.
func (d *compactDecoder) substring(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	start := d.pos - len(b)
	if d.arena == "" {
		d.arena = string(d.src[start:])
		d.arenaBase = start
	}
	return d.arena[start-d.arenaBase : d.pos-d.arenaBase]
}

// key reads the payload of a string map key and returns it boxed, from the
// table of interned keys when it is there.
func (d *compactDecoder) key() (interface{}, error) {
	b, err := d.bytes()
	if err != nil {
		return nil, err
	}
	if t := compactKeys.table.Load(); t != nil {
		if k, ok := (*t)[string(b)]; ok { // this lookup does not allocate
			return k, nil
		}
	}
	if k, ok := compactInternKey(b); ok {
		return k, nil
	}
	// Not interned (too long, or the table is full).
	return d.substring(b), nil
}

// compactKeys interns the string keys of decoded session maps, boxed in
// interfaces. Keys are few and come back in every request (the names an
// application gives its session values), and boxing a string into an
// interface costs an allocation each time: with the table, decoding a map
// with string keys allocates nothing for its keys. The table is a
// copy-on-write map read without locking; it holds at most
// compactMaxInternedKeys keys of at most compactMaxInternedKeyLen bytes and
// stops growing when full (about 100 KiB at worst), so an application with
// unbounded key names only loses the optimization for the keys that come
// after. The keys come from data the application wrote (cookies are
// deserialized only after their MAC is verified).
var compactKeys struct {
	mu    sync.Mutex // held by writers
	table atomic.Pointer[map[string]interface{}]
}

// compactInternKey adds the key b to the table, unless the key is too long
// or the table is full, and returns the boxed key it holds.
func compactInternKey(b []byte) (interface{}, bool) {
	if len(b) > compactMaxInternedKeyLen {
		return nil, false
	}
	compactKeys.mu.Lock()
	defer compactKeys.mu.Unlock()
	var old map[string]interface{}
	if t := compactKeys.table.Load(); t != nil {
		old = *t
	}
	if k, ok := old[string(b)]; ok {
		return k, true
	}
	if len(old) >= compactMaxInternedKeys {
		return nil, false
	}
	t := make(map[string]interface{}, len(old)+1)
	for k, v := range old {
		t[k] = v
	}
	s := string(b) // a copy: the table must not keep the input alive
	var k interface{} = s
	t[s] = k
	compactKeys.table.Store(&t)
	return k, true
}

// count reads the element count of a slice or map; each element takes at
// least minSize bytes of input, which bounds the count.
func (d *compactDecoder) count(minSize int) (n int, isNil bool, err error) {
	at := d.pos
	c, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if c == 0 {
		return 0, true, nil
	}
	c--
	if left := len(d.src) - d.pos; c > uint64(left/minSize) {
		return 0, false, fmt.Errorf("%w: count %d at offset %d exceeds the %d bytes left", ErrDeserialize, c, at, left)
	}
	return int(c), false, nil
}

func (d *compactDecoder) outOfRange(typ string, at int) error {
	return fmt.Errorf("%w: %s out of range at offset %d", ErrDeserialize, typ, at)
}

// value decodes one value; depth is the number of slices and maps that
// enclose it.
func (d *compactDecoder) value(depth int) (interface{}, error) {
	at := d.pos
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case compactTagNil:
		return nil, nil
	case compactTagFalse:
		return false, nil
	case compactTagTrue:
		return true, nil
	case compactTagInt, compactTagInt16, compactTagInt32, compactTagInt64:
		x, err := d.varint()
		if err != nil {
			return nil, err
		}
		switch tag {
		case compactTagInt:
			if int64(int(x)) != x {
				return nil, d.outOfRange("int", at)
			}
			return int(x), nil
		case compactTagInt16:
			if int64(int16(x)) != x {
				return nil, d.outOfRange("int16", at)
			}
			return int16(x), nil
		case compactTagInt32:
			if int64(int32(x)) != x {
				return nil, d.outOfRange("int32", at)
			}
			return int32(x), nil
		}
		return x, nil
	case compactTagUint, compactTagUint16, compactTagUint32, compactTagUint64:
		x, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		switch tag {
		case compactTagUint:
			if uint64(uint(x)) != x {
				return nil, d.outOfRange("uint", at)
			}
			return uint(x), nil
		case compactTagUint16:
			if uint64(uint16(x)) != x {
				return nil, d.outOfRange("uint16", at)
			}
			return uint16(x), nil
		case compactTagUint32:
			if uint64(uint32(x)) != x {
				return nil, d.outOfRange("uint32", at)
			}
			return uint32(x), nil
		}
		return x, nil
	case compactTagInt8:
		b, err := d.byte()
		return int8(b), err
	case compactTagUint8:
		b, err := d.byte()
		return b, err
	case compactTagFloat32:
		b, err := d.fixed(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case compactTagFloat64:
		b, err := d.fixed(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case compactTagString:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return s, nil
	case compactTagBytes:
		n, isNil, err := d.count(1)
		if err != nil || isNil {
			return []byte(nil), err
		}
		b, err := d.fixed(n)
		if err != nil {
			return nil, err
		}
		return append(make([]byte, 0, n), b...), nil
	case compactTagTime:
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		var t time.Time
		if err := t.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("%w: time.Time at offset %d: %w", ErrDeserialize, at, err)
		}
		return t, nil
	case compactTagList:
		if depth >= compactMaxDepth {
			return nil, d.tooDeep(at)
		}
		n, isNil, err := d.count(1)
		if err != nil || isNil {
			return []interface{}(nil), err
		}
		l := make([]interface{}, n)
		for i := range l {
			if l[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return l, nil
	case compactTagStrings:
		if depth >= compactMaxDepth {
			return nil, d.tooDeep(at)
		}
		n, isNil, err := d.count(1)
		if err != nil || isNil {
			return []string(nil), err
		}
		l := make([]string, n)
		for i := range l {
			if l[i], err = d.string(); err != nil {
				return nil, err
			}
		}
		return l, nil
	case compactTagStringMap:
		if depth >= compactMaxDepth {
			return nil, d.tooDeep(at)
		}
		n, isNil, err := d.count(2)
		if err != nil || isNil {
			return map[string]interface{}(nil), err
		}
		m := make(map[string]interface{}, min(n, compactMaxMapHint))
		for range n {
			k, err := d.string()
			if err != nil {
				return nil, err
			}
			if m[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case compactTagMap:
		if depth >= compactMaxDepth {
			return nil, d.tooDeep(at)
		}
		n, isNil, err := d.count(2)
		if err != nil || isNil {
			return map[interface{}]interface{}(nil), err
		}
		m := make(map[interface{}]interface{}, min(n, compactMaxMapHint))
		for range n {
			kat := d.pos
			var k interface{}
			if kat < len(d.src) && d.src[kat] == compactTagString {
				d.pos++
				k, err = d.key()
			} else {
				k, err = d.value(depth + 1)
			}
			if err != nil {
				return nil, err
			}
			if !compactHashable(k) {
				return nil, fmt.Errorf("%w: map key of type %T at offset %d is not comparable", ErrDeserialize, k, kat)
			}
			if m[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case compactTagGob:
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		return compactDecodeGobValue(b, at)
	default:
		return nil, fmt.Errorf("%w: unknown type tag 0x%02X at offset %d", ErrDeserialize, tag, at)
	}
}

func (d *compactDecoder) tooDeep(at int) error {
	return fmt.Errorf("%w: slices and maps nested more than %d deep at offset %d", ErrDeserialize, compactMaxDepth, at)
}

// compactHashable reports whether k can be a map key without panicking.
func compactHashable(k interface{}) bool {
	switch k.(type) {
	case nil, bool, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, float32, float64,
		string, time.Time:
		return true
	case []byte, []interface{}, []string, map[string]interface{}, map[interface{}]interface{}:
		return false
	}
	// A gob-decoded value: Comparable looks at the dynamic values inside
	// interfaces too, which is what hashing panics on.
	return reflect.ValueOf(k).Comparable()
}

// compactDecodeGobValue decodes a value written by compactAppendGobValue.
func compactDecodeGobValue(b []byte, at int) (v interface{}, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: gob value at offset %d: panic in gob: %v", ErrDeserialize, at, r)
		}
	}()
	if err := compactCheckGob(b); err != nil {
		return nil, fmt.Errorf("%w: gob value at offset %d: %w", ErrDeserialize, at, err)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: gob value at offset %d: %w", ErrDeserialize, at, err)
	}
	return v, nil
}

// encoding/gob is not hardened against hostile input (its documentation says
// so), and one weakness is not bounded by the input size: when it decodes a
// map it passes the element count read from the stream to
// reflect.MakeMapWithSize unchecked (golang/go#79539, not fixed in the Go
// releases this module supports),
// so about 30 bytes can make it allocate gigabytes and the process die of
// out-of-memory, which no recover catches. Slices, strings and messages are
// bounded by gob itself. Before any gob data reaches encoding/gob,
// compactCheckGob therefore walks it the way gob's decoder will, following
// the type definitions the stream carries, and rejects it if a map declares
// more entries than there are bytes left in the input (give or take
// compactGobMapSlack), if values nest more
// than compactGobMaxDepth deep, or if it uses a type defined with several
// kinds (gob would read it as the kind matching the local type, which the
// walk cannot see; gob's encoder never writes such a definition).
//
// The walk must meet every byte gob will read as a map count. gob reads
// values in order, with one exception: when a struct field is absent from
// the local type, gob skips it, and it skips an interface value by the byte
// count written before it instead of parsing it. Whether a field is skipped
// depends on local types the walk cannot see, so wherever skipping and
// parsing would continue at different places (an interface value inside a
// struct field that carries type definitions, or a nil one), the walk
// explores both continuations, up to compactGobMaxRuns complete walks.
const (
	compactGobTooBig   = 1 << 30 // below gob's own limit on message and length sizes
	compactGobMaxDepth = 100
	compactGobMaxRuns  = 64
	compactGobFirstID  = 64 // gob's first user type id
	compactGobMapSlack = 1024
)

// Kinds of gob wire types.
const (
	compactGobArray = iota + 1
	compactGobSlice
	compactGobStruct
	compactGobMap
	compactGobExternal // GobEncoder, BinaryMarshaler or TextMarshaler
)

// compactGobWire is what the walk keeps of a gob type definition.
type compactGobWire struct {
	kind      int // a compactGob kind; 0 for none, -1 for several
	key, elem int32
	length    int64   // arrays
	fields    []int32 // structs
}

// compactGobWalk is one walk through a gob stream.
type compactGobWalk struct {
	rest  []byte // messages not read yet
	buf   []byte // the rest of the current message
	types map[int32]*compactGobWire
	added []int32 // type ids in the order they were defined

	depth     int    // nesting of values
	skipping  bool   // walking a struct field as gob skips it
	divergent int    // interface values where skipping differs from parsing
	choices   []bool // at the n-th fork, skip (true) or parse (false)
	forks     int    // forks met so far
	refills   int    // messages read
	work      int
	workLimit int

	bad error // set when the input must be rejected
}

// compactCheckGob returns an error (to be wrapped by the caller) if gob data
// may make encoding/gob allocate memory out of proportion to its size.
func compactCheckGob(data []byte) error {
	if len(data) >= compactGobTooBig {
		return fmt.Errorf("gob data of %d bytes is too large", len(data))
	}
	queue := [][]bool{nil}
	workLimit := 16*len(data) + 1024
	for runs := 0; len(queue) > 0; runs++ {
		if runs == compactGobMaxRuns {
			return errors.New("gob data too complex to check")
		}
		choices := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		w := compactGobWalk{rest: data, types: map[int32]*compactGobWire{}, choices: choices, workLimit: workLimit}
		if id, ok := w.typeSequence(false); ok {
			w.value(id)
		}
		if w.bad != nil {
			return w.bad
		}
		// Explore skipping at each fork this walk parsed through.
		for i := len(choices); i < w.forks; i++ {
			alt := make([]bool, i+1)
			copy(alt, choices)
			alt[i] = true
			queue = append(queue, alt)
		}
	}
	return nil
}

func (w *compactGobWalk) reject(format string, args ...interface{}) bool {
	if w.bad == nil {
		w.bad = fmt.Errorf("gob data rejected: "+format, args...)
	}
	return false
}

// compactGobUint decodes a gob unsigned integer from b, as gob does: it
// returns the value and the bytes used, or ok false where gob fails.
func compactGobUint(b []byte) (x uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] <= 0x7f {
		return uint64(b[0]), 1, true
	}
	n = -int(int8(b[0]))
	if n > 8 || len(b) < n+1 {
		return 0, 0, false
	}
	for _, c := range b[1 : n+1] {
		x = x<<8 | uint64(c)
	}
	return x, n + 1, true
}

// uint reads an unsigned integer from the current message. Every method
// returns false where gob would fail: the walk ends there, having met
// everything gob reads.
func (w *compactGobWalk) uint() (uint64, bool) {
	x, n, ok := compactGobUint(w.buf)
	if ok {
		w.buf = w.buf[n:]
	}
	return x, ok
}

func (w *compactGobWalk) int() (int64, bool) {
	x, ok := w.uint()
	if x&1 != 0 {
		return ^int64(x >> 1), ok
	}
	return int64(x >> 1), ok
}

// length reads a byte count that must fit in the current message.
func (w *compactGobWalk) length() (int, bool) {
	n, ok := w.uint()
	if !ok || n > uint64(len(w.buf)) || n >= compactGobTooBig {
		return 0, false
	}
	return int(n), true
}

// skipLength reads a byte count and skips that many bytes.
func (w *compactGobWalk) skipLength() bool {
	n, ok := w.length()
	if ok {
		w.buf = w.buf[n:]
	}
	return ok
}

// nextMessage makes the next message of the stream the current one.
func (w *compactGobWalk) nextMessage() bool {
	n, used, ok := compactGobUint(w.rest)
	if !ok || n >= compactGobTooBig || n > uint64(len(w.rest)-used) {
		return false
	}
	w.buf = w.rest[used : used+int(n)]
	w.rest = w.rest[used+int(n):]
	w.refills++
	return true
}

// typeSequence reads type definitions up to a type id, as gob's
// decodeTypeSequence does.
func (w *compactGobWalk) typeSequence(inInterface bool) (int32, bool) {
	for {
		if len(w.buf) == 0 && !w.nextMessage() {
			return 0, false
		}
		x, ok := w.int()
		if !ok {
			return 0, false
		}
		id := int32(x) // gob's typeId is an int32
		if id >= 0 {
			return id, true
		}
		if !w.recvType(-id) {
			return 0, false
		}
		if len(w.buf) > 0 {
			if !inInterface {
				return 0, false
			}
			if _, ok := w.uint(); !ok {
				return 0, false
			}
		}
	}
}

// structFields walks a struct encoding of n fields as gob's decodeStruct
// does, calling field for each field present.
func (w *compactGobWalk) structFields(n int, field func(int) bool) bool {
	fieldnum := -1
	for len(w.buf) > 0 {
		delta, ok := w.uint()
		if !ok {
			return false
		}
		if delta == 0 {
			break
		}
		if delta > uint64(n) || fieldnum >= n-int(delta) {
			return false
		}
		fieldnum += int(delta)
		if !field(fieldnum) {
			return false
		}
	}
	return true
}

// commonType walks gob's CommonType{Name string; Id typeId}.
func (w *compactGobWalk) commonType() bool {
	return w.structFields(2, func(f int) bool {
		if f == 0 {
			return w.skipLength()
		}
		_, ok := w.int()
		return ok
	})
}

// typeID reads a type id field.
func (w *compactGobWalk) typeID(dst *int32) bool {
	x, ok := w.int()
	*dst = int32(x)
	return ok
}

// recvType reads the definition of type id, a gob wireType.
func (w *compactGobWalk) recvType(id int32) bool {
	if id < compactGobFirstID || w.types[id] != nil {
		return false // gob: duplicate type received
	}
	t := &compactGobWire{}
	kinds := 0
	ok := w.structFields(7, func(f int) bool {
		kinds++
		switch f {
		case 0: // ArrayT {CommonType; Elem typeId; Len int}
			t.kind = compactGobArray
			return w.structFields(3, func(f int) bool {
				switch f {
				case 0:
					return w.commonType()
				case 1:
					return w.typeID(&t.elem)
				}
				var ok bool
				t.length, ok = w.int()
				return ok
			})
		case 1: // SliceT {CommonType; Elem typeId}
			t.kind = compactGobSlice
			return w.structFields(2, func(f int) bool {
				if f == 0 {
					return w.commonType()
				}
				return w.typeID(&t.elem)
			})
		case 2: // StructT {CommonType; Field []fieldType{Name string; Id typeId}}
			t.kind = compactGobStruct
			return w.structFields(2, func(f int) bool {
				if f == 0 {
					return w.commonType()
				}
				n, ok := w.uint()
				if !ok {
					return false
				}
				for range n {
					if len(w.buf) == 0 {
						return false
					}
					if !w.spend() {
						return false
					}
					var fid int32
					if !w.structFields(2, func(f int) bool {
						if f == 0 {
							return w.skipLength()
						}
						return w.typeID(&fid)
					}) {
						return false
					}
					t.fields = append(t.fields, fid)
				}
				return true
			})
		case 3: // MapT {CommonType; Key, Elem typeId}
			t.kind = compactGobMap
			return w.structFields(3, func(f int) bool {
				switch f {
				case 0:
					return w.commonType()
				case 1:
					return w.typeID(&t.key)
				}
				return w.typeID(&t.elem)
			})
		default: // GobEncoderT, BinaryMarshalerT, TextMarshalerT {CommonType}
			t.kind = compactGobExternal
			return w.structFields(1, func(int) bool { return w.commonType() })
		}
	})
	if !ok {
		return false
	}
	switch kinds {
	case 0:
		t.kind = 0
	case 1:
	default:
		t.kind = -1 // see knownID
	}
	w.types[id] = t
	w.added = append(w.added, id)
	return true
}

// spend counts work, so that a walk stays linear in the input.
func (w *compactGobWalk) spend() bool {
	w.work++
	if w.work > w.workLimit {
		return w.reject("too complex to check")
	}
	return true
}

// value walks a value of type id as gob's decodeValue does: a struct, or a
// singleton introduced by a zero field delta.
func (w *compactGobWalk) value(id int32) bool {
	if !w.knownID(id) {
		return false
	}
	if t := w.wire(id); t != nil && t.kind == compactGobStruct {
		return w.structValue(t)
	}
	if delta, ok := w.uint(); !ok || delta != 0 {
		return false
	}
	return w.field(id)
}

func (w *compactGobWalk) structValue(t *compactGobWire) bool {
	return w.structFields(len(t.fields), func(f int) bool {
		id := t.fields[f]
		if w.skipping {
			return w.field(id)
		}
		// gob skips the field if the local struct lacks it. That differs
		// from parsing it only where an interface value inside would be
		// skipped to another place than parsing ends (see iface): then
		// both continuations are walked, in different runs.
		mark := w.mark()
		parsed := w.field(id)
		if w.bad != nil || w.divergent == mark.divergent {
			return parsed
		}
		if !w.fork() {
			return parsed
		}
		w.reset(mark)
		w.skipping = true
		skipped := w.field(id)
		w.skipping = false
		return skipped
	})
}

// compactGobMark is the state of a walk that a fork goes back to.
type compactGobMark struct {
	buf, rest      []byte
	added, refills int
	divergent      int
}

func (w *compactGobWalk) mark() compactGobMark {
	return compactGobMark{buf: w.buf, rest: w.rest, added: len(w.added), refills: w.refills, divergent: w.divergent}
}

func (w *compactGobWalk) reset(m compactGobMark) {
	for _, id := range w.added[m.added:] {
		delete(w.types, id)
	}
	w.added = w.added[:m.added]
	w.buf, w.rest, w.refills, w.divergent = m.buf, m.rest, m.refills, m.divergent
}

// compactGobPredefined are gob's own predefined types, which it decodes
// into a matching local type like any other (its encoder never writes them
// in user data, but hostile data may): wireType (16), arrayType,
// CommonType, sliceType, structType, fieldType, []fieldType, mapType and
// gobEncoderType (24). Type ids are encoded as ints (2), names as strings
// (6), pointers as what they point to.
var compactGobPredefined = map[int32]*compactGobWire{
	16: {kind: compactGobStruct, fields: []int32{17, 19, 20, 23, 24, 24, 24}},
	17: {kind: compactGobStruct, fields: []int32{18, 2, 2}},
	18: {kind: compactGobStruct, fields: []int32{6, 2}},
	19: {kind: compactGobStruct, fields: []int32{18, 2}},
	20: {kind: compactGobStruct, fields: []int32{18, 22}},
	21: {kind: compactGobStruct, fields: []int32{6, 2}},
	22: {kind: compactGobSlice, elem: 21},
	23: {kind: compactGobStruct, fields: []int32{18, 2, 2}},
	24: {kind: compactGobStruct, fields: []int32{18}},
}

// wire returns the definition of type id, or nil for basic and undefined
// types.
func (w *compactGobWalk) wire(id int32) *compactGobWire {
	if id < compactGobFirstID {
		return compactGobPredefined[id]
	}
	return w.types[id]
}

// knownID reports whether gob can decode a value of type id; it rejects
// the input if the walk cannot tell how gob would read it.
func (w *compactGobWalk) knownID(id int32) bool {
	if id >= 1 && id <= 8 {
		return true
	}
	t := w.wire(id)
	switch {
	case t == nil:
		return false // gob: undefined type
	case t.kind == 0:
		return false // gob: a definition of no kind matches no local type
	case t.kind < 0:
		// Several kinds: gob would read it as the one that matches the local
		// type, which the walk cannot see. gob's encoder never writes this.
		return w.reject("type %d defined with several kinds", id)
	}
	return true
}

// field walks one encoded item of type id (a field, an element, a key).
func (w *compactGobWalk) field(id int32) bool {
	if !w.spend() {
		return false
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > compactGobMaxDepth {
		return w.reject("values nested more than %d deep", compactGobMaxDepth)
	}
	switch id {
	case 1, 2, 3, 4: // bool, int, uint, float
		_, ok := w.uint()
		return ok
	case 7: // complex
		if _, ok := w.uint(); !ok {
			return false
		}
		_, ok := w.uint()
		return ok
	case 5, 6: // []byte, string
		return w.skipLength()
	case 8:
		return w.iface()
	}
	if !w.knownID(id) {
		return false
	}
	t := w.wire(id)
	switch t.kind {
	case compactGobArray, compactGobSlice:
		n, ok := w.uint()
		if !ok || (t.kind == compactGobArray && n != uint64(t.length)) {
			return false
		}
		for range n {
			if len(w.buf) == 0 || !w.field(t.elem) {
				return false
			}
		}
		return true
	case compactGobMap:
		n, ok := w.uint()
		if !ok {
			return false
		}
		// Every entry takes at least one byte, but the bytes gob reads after
		// a failure do not have to be there: a little slack keeps such a
		// count (which costs a small map at worst) from rejecting data.
		if n > uint64(len(w.buf)+len(w.rest))+compactGobMapSlack {
			return w.reject("map of %d entries with %d bytes left", n, len(w.buf)+len(w.rest))
		}
		for range n {
			if !w.field(t.key) || !w.field(t.elem) {
				return false
			}
		}
		return true
	case compactGobStruct:
		return w.structValue(t)
	default: // external
		return w.skipLength()
	}
}

// fork reports whether this walk skips at the next fork.
func (w *compactGobWalk) fork() bool {
	i := w.forks
	w.forks++
	return i < len(w.choices) && w.choices[i]
}

// iface walks an interface value. Parsed, it is a name (empty for nil),
// a type sequence, a byte count and the value; skipped (inside a struct
// field the local type lacks), it is a name, a type sequence and that many
// bytes, even when the name is empty. When the two would end at different
// places, or parsing defines types or reads further messages, the value
// counts as divergent.
func (w *compactGobWalk) iface() bool {
	nr, ok := w.uint()
	if !ok || nr > uint64(len(w.buf)) {
		return false
	}
	w.buf = w.buf[nr:]
	if w.skipping {
		return w.skipInterfaceRest()
	}
	if nr == 0 {
		w.divergent++
		return true // nil
	}
	id, ok := w.typeSequence(true)
	if !ok {
		return false
	}
	n, ok := w.uint()
	if !ok {
		return false
	}
	m := w.mark()
	parsed := w.value(id)
	w.divergent = m.divergent // what happens inside the value stays there
	if !parsed || w.refills != m.refills || len(w.added) != m.added ||
		n > uint64(len(m.buf)) || len(w.buf) != len(m.buf)-int(n) {
		w.divergent++
	}
	return parsed
}

func (w *compactGobWalk) skipInterfaceRest() bool {
	if _, ok := w.typeSequence(true); !ok {
		return false
	}
	return w.skipLength()
}

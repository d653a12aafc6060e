// Package compact implements the binary format of sessions.CompactSerializer:
// the magic byte, then one value, a type tag and its payload. Types other
// than those of the tags are encoded with encoding/gob one value at a time;
// a top-level value of another type is a plain gob stream, which is also
// what Decode reads when the first byte is not the magic byte (the data of
// gorilla/sessions). Decode trusts gob with gob data, so it must only be
// given authenticated input (in package sessions, input that passed the
// codec's HMAC check).
package compact

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Magic is the first byte of the compact format and names its version (1).
// No gob stream starts with a byte in 0x80–0xF7 (gob reads a first byte
// there as a length of more than 8 bytes and fails), so that range tells
// the formats apart; 0xC1 is never valid in UTF-8 either, so no text format
// starts with it. Later versions will take other bytes of the range, which
// Decode reports as unknown rather than handing them to gob.
const Magic byte = 0xC1

// The type tags: every value is a tag byte and its payload. A count is a
// uvarint holding the number of elements plus one, 0 standing for a nil
// slice or map; a length is a uvarint. Map entries are written sorted by
// the bytes of their encoded keys (bytes.Compare), so that equal maps give
// equal bytes. Decoding range-checks the integers narrower than 64 bits.
const (
	TagNil       byte = iota // no payload
	TagFalse                 // no payload
	TagTrue                  // no payload
	TagInt                   // zig-zag varint (binary.AppendVarint)
	TagInt8                  // one byte, two's complement
	TagInt16                 // zig-zag varint
	TagInt32                 // zig-zag varint
	TagInt64                 // zig-zag varint
	TagUint                  // uvarint
	TagUint8                 // one byte
	TagUint16                // uvarint
	TagUint32                // uvarint
	TagUint64                // uvarint
	TagFloat32               // IEEE 754 bits, 4 bytes little endian
	TagFloat64               // IEEE 754 bits, 8 bytes little endian
	TagString                // length, bytes
	TagBytes                 // []byte: count, bytes
	TagTime                  // time.Time: length, Time.MarshalBinary output
	TagList                  // []any: count, values
	TagStrings               // []string: count, each a length and bytes
	TagStringMap             // map[string]any: count, each a length, key bytes, value
	TagMap                   // map[any]any: count, each a key value and a value
	TagGob                   // any other type: length, gob stream of it as an interface value
)

// MaxDepth bounds the nesting of slices and maps, when encoding (which also
// stops a map that contains itself) and decoding (the decoder's recursion).
// The depth that the functions of the package take is the number of slices
// and maps that enclose the value at hand.
const MaxDepth = 32

// ErrEncode and ErrDecode are wrapped by every error of Append and Decode;
// package sessions exports them as ErrSerialize and ErrDeserialize.
var (
	ErrEncode = errors.New("sessions: cannot serialize values")
	ErrDecode = errors.New("sessions: cannot deserialize values")
)

// Knows reports whether the compact format encodes v's type itself.
func Knows(v any) bool {
	switch v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, string, []byte, time.Time, []any, []string, map[string]any, map[any]any:
		return true
	}
	return false
}

// DroppedError reports the entries of a top-level map[any]any that Decode
// left out because their values could not be decoded (a gob type no longer
// registered, a gob value that no longer fits its type, an int or uint
// larger than a 32-bit platform's); the others were decoded. It wraps Err,
// which wraps ErrDecode, and its text names the keys.
type DroppedError struct {
	Keys []any // of the entries left out, in input order
	Err  error // why the first was left out
}

func (e *DroppedError) Error() string {
	keys := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		keys[i] = fmt.Sprint(k)
	}
	what := "value of key"
	if len(keys) > 1 {
		what = "values of keys"
	}
	cause := strings.TrimPrefix(e.Err.Error(), ErrDecode.Error()+": ")
	return fmt.Sprintf("%v: dropped the undecodable %s %s: %s", ErrDecode, what, strings.Join(keys, ", "), cause)
}

func (e *DroppedError) Unwrap() error { return e.Err }

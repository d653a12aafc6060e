package sessions

import (
	"bytes"

	"github.com/fasthttp-sessions/sessions/internal/compact"
)

// CompactSerializer is the default serializer of this package. It
// implements securecookie.Serializer (github.com/gorilla/securecookie
// v1.1.2) with a compact binary format that encodes and decodes a small
// session many times faster than encoding/gob, in fewer bytes, and it reads
// gob data too, so sessions written by gorilla/sessions
// (securecookie.GobEncoder) keep working.
//
// It encodes these types itself and gives back the same Go type when
// decoding (an int comes back as an int, a uint8 as a uint8): nil, bool,
// int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
// float32, float64, string, []byte, time.Time, []any, []string,
// map[string]any and map[any]any, nested to at most 32 levels of slices and
// maps. Inside those, a value of any other type is encoded with
// encoding/gob as an interface value, so it must be registered with
// gob.Register, exactly as with gorilla/sessions; an unregistered type
// makes Serialize fail with an error wrapping ErrSerialize. A top-level
// value of any other type is written as a plain gob stream, as
// securecookie.GobEncoder would write it. As with gob, a pointer is
// followed: a stored &Cart{} comes back as a Cart.
//
// Serialize gives equal bytes for equal values: the entries of the maps it
// encodes itself are written in a fixed order. Values encoded with gob keep
// gob's bytes, which for a map inside a custom type follow its iteration
// order.
//
// Decoded time.Time values lose their monotonic clock reading and carry
// either time.UTC, time.Local or a fixed zone, as with gob (so a decoded
// time.Time map key is not == to the original one). Strings decoded from
// one input share a single copy of it, so a string kept from a session
// keeps that copy alive.
//
// CompactSerializer holds no state of its own (the table of interned map
// keys it shares is synchronized) and is safe for concurrent use by
// multiple goroutines.
type CompactSerializer struct{}

// Serialize encodes src and returns a newly allocated slice. Errors wrap
// ErrSerialize.
func (CompactSerializer) Serialize(src any) ([]byte, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	var err error
	if buf.B, err = compact.Append(buf.B[:0], src); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.B), nil
}

// Deserialize decodes src, written by Serialize or by
// securecookie.GobEncoder (gob), into dst, which must be a non-nil pointer.
// It must only be given authenticated input, such as what a Codec has
// verified: encoding/gob, which it runs on gob data, is not hardened against
// hostile input. A panic in gob, or in a GobDecode method, is returned as
// an error.
//
// For data in the compact format, dst may be a *map[any]any (the session
// values), a *string (a session ID), an *any (which receives the value with
// its original type), or a pointer to any type the decoded value is
// assignable to. The value pointed to is replaced, never merged. Gob data is
// handed to encoding/gob, with its rules: it merges into an existing map,
// and it cannot decode a gob stream of a concrete type into an *any.
//
// Errors wrap ErrDeserialize. When src holds session values in the compact
// format and some of them cannot be decoded (a custom type no longer
// registered with gob, or changed so that gob rejects its old data), those
// entries alone are left out: *dst is set to the others, and the error
// names the keys left out.
func (CompactSerializer) Deserialize(src []byte, dst any) error {
	if len(src) > 0 && src[0] == compact.Magic {
		src = bytes.Clone(src) // decoded strings share it
	}
	return compact.Decode(src, dst)
}

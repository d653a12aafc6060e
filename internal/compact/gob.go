package compact

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
)

// appendGob appends v with encoding/gob: as an interface value behind
// TagGob and its length (asValue), which needs v's type to be registered
// with gob.Register, or else as a plain gob stream of v, as
// securecookie.GobEncoder writes it. On error it returns dst.
func appendGob(dst []byte, v any, asValue bool) (out []byte, err error) {
	defer func() {
		// A GobEncode or MarshalBinary method of the user's type may panic;
		// report it as an error rather than crashing the request.
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("%w: value of type %T: panic in gob: %v", ErrEncode, v, r)
		}
	}()
	if !asValue {
		buf := bytes.NewBuffer(dst)
		if err := gob.NewEncoder(buf).Encode(v); err != nil {
			return dst, fmt.Errorf("%w: value of type %T: %w", ErrEncode, v, err)
		}
		return buf.Bytes(), nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return dst, fmt.Errorf("%w: value of type %T: %w", ErrEncode, v, err)
	}
	dst = binary.AppendUvarint(append(dst, TagGob), uint64(buf.Len()))
	return append(dst, buf.Bytes()...), nil
}

// decodeGob decodes gob data: a value written by appendGob (at >= 0, its
// offset in the input) into a new any, or else a plain gob stream into dst.
func decodeGob(b []byte, dst any, at int) (v any, err error) {
	where := ""
	if at >= 0 {
		where, dst = fmt.Sprintf(" gob value at offset %d:", at), &v
	}
	defer func() {
		// A GobDecode or UnmarshalBinary method of a registered type may
		// panic on bytes it did not write: never let that crash a request.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w:%s panic in gob: %v", ErrDecode, where, r)
		}
	}()
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(dst); err != nil {
		return nil, fmt.Errorf("%w:%s %w", ErrDecode, where, err)
	}
	return v, nil
}

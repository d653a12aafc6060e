package compact

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// Append appends the encoding of v to dst and returns the extended slice.
// With a dst of sufficient capacity, a value made only of the types the
// format knows is encoded without allocating. Equal values give equal bytes
// (map entries are sorted), except inside values encoded with gob, which
// has its own rules. On error it returns dst as it was given (what was
// appended is dropped) and an error wrapping ErrEncode.
func Append(dst []byte, v any) ([]byte, error) {
	if !Knows(v) {
		return appendGob(dst, v, false)
	}
	b, err := appendValue(append(dst, Magic), v, 0)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// appendValue appends the tag and payload of v.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(append(dst, TagString), x, depth)
	case int:
		return binary.AppendVarint(append(dst, TagInt), int64(x)), nil
	case nil:
		return append(dst, TagNil), nil
	case bool:
		if x {
			return append(dst, TagTrue), nil
		}
		return append(dst, TagFalse), nil
	case int8:
		return append(dst, TagInt8, byte(x)), nil
	case int16:
		return binary.AppendVarint(append(dst, TagInt16), int64(x)), nil
	case int32:
		return binary.AppendVarint(append(dst, TagInt32), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(dst, TagInt64), x), nil
	case uint:
		return binary.AppendUvarint(append(dst, TagUint), uint64(x)), nil
	case uint8:
		return append(dst, TagUint8, x), nil
	case uint16:
		return binary.AppendUvarint(append(dst, TagUint16), uint64(x)), nil
	case uint32:
		return binary.AppendUvarint(append(dst, TagUint32), uint64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(dst, TagUint64), x), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(dst, TagFloat32), math.Float32bits(x)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, TagFloat64), math.Float64bits(x)), nil
	case []byte:
		return append(appendCount(append(dst, TagBytes), len(x), x == nil), x...), nil
	case time.Time:
		b, err := x.MarshalBinary()
		if err != nil {
			return dst, fmt.Errorf("%w: time.Time: %w", ErrEncode, err)
		}
		return append(binary.AppendUvarint(append(dst, TagTime), uint64(len(b))), b...), nil
	case []any:
		return appendSlice(dst, TagList, x, depth, appendValue)
	case []string:
		return appendSlice(dst, TagStrings, x, depth, appendString)
	case map[string]any:
		return appendMap(dst, TagStringMap, x, depth, appendString)
	case map[any]any:
		return appendMap(dst, TagMap, x, depth, appendValue)
	}
	return appendGob(dst, v, true)
}

// appendString appends a length and the bytes of s. It takes a depth to
// have the signature of the functions that append elements and keys.
func appendString(dst []byte, s string, _ int) ([]byte, error) {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
}

// appendCount appends the element count of a slice or map: n+1, or 0 for
// nil.
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

var errDepth = fmt.Errorf("%w: slices and maps nested more than %d deep (or containing themselves)", ErrEncode, MaxDepth)

// appendSlice appends the tag, count and elements of s.
func appendSlice[E any](dst []byte, tag byte, s []E, depth int, appendElem func([]byte, E, int) ([]byte, error)) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, errDepth
	}
	dst = appendCount(append(dst, tag), len(s), s == nil)
	var err error
	for _, e := range s {
		if dst, err = appendElem(dst, e, depth+1); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// entry is a map entry being encoded: its key's encoding is dst[key:end].
type entry struct {
	key, end int
	value    any
}

// appendMap appends the tag, count and entries of m, sorted by their
// encoded keys: the keys are encoded first, the entries sorted by those
// bytes and written after them, and the result moved back over them.
func appendMap[K comparable](dst []byte, tag byte, m map[K]any, depth int, appendKey func([]byte, K, int) ([]byte, error)) ([]byte, error) {
	if depth >= MaxDepth {
		return dst, errDepth
	}
	dst = appendCount(append(dst, tag), len(m), m == nil)
	var small [8]entry // no allocation for small maps
	es := small[:0]
	if len(m) > len(small) {
		es = make([]entry, 0, len(m))
	}
	keys := len(dst)
	var err error
	for k, v := range m {
		at := len(dst)
		if dst, err = appendKey(dst, k, depth+1); err != nil {
			return dst, err
		}
		es = append(es, entry{at, len(dst), v})
	}
	slices.SortFunc(es, func(a, b entry) int { return bytes.Compare(dst[a.key:a.end], dst[b.key:b.end]) })
	out := len(dst)
	for _, e := range es {
		dst = append(dst, dst[e.key:e.end]...)
		if dst, err = appendValue(dst, e.value, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst[:keys], dst[out:]...), nil
}

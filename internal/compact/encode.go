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
// has its own rules. On error it returns dst[:len(dst)] (what was appended
// is dropped) and an error wrapping ErrEncode.
func Append(dst []byte, v any) ([]byte, error) {
	start := len(dst)
	var err error
	if Knows(v) {
		dst, err = appendValue(append(dst, Magic), v, 0)
	} else {
		dst, err = appendGob(dst, v, false)
	}
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// appendValue appends the tag and payload of v. depth is the number of
// slices and maps that enclose v.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(append(dst, TagString), x), nil
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
	case []any, []string, map[string]any, map[any]any:
		if depth >= MaxDepth {
			return dst, fmt.Errorf("%w: slices and maps nested more than %d deep (or containing themselves)", ErrEncode, MaxDepth)
		}
	default:
		return appendGob(dst, v, true)
	}
	var err error
	switch x := v.(type) {
	case []any:
		dst = appendCount(append(dst, TagList), len(x), x == nil)
		for _, e := range x {
			if dst, err = appendValue(dst, e, depth+1); err != nil {
				return dst, err
			}
		}
	case []string:
		dst = appendCount(append(dst, TagStrings), len(x), x == nil)
		for _, e := range x {
			dst = appendString(dst, e)
		}
	case map[string]any:
		dst = appendCount(append(dst, TagStringMap), len(x), x == nil)
		dst, err = appendEntries(dst, x, depth, func(dst []byte, k string) ([]byte, error) {
			return appendString(dst, k), nil
		})
	case map[any]any:
		dst = appendCount(append(dst, TagMap), len(x), x == nil)
		dst, err = appendEntries(dst, x, depth, func(dst []byte, k any) ([]byte, error) {
			return appendValue(dst, k, depth+1)
		})
	}
	return dst, err
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// appendCount appends the element count of a slice or map: n+1, or 0 for
// nil.
func appendCount(dst []byte, n int, isNil bool) []byte {
	if isNil {
		return append(dst, 0)
	}
	return binary.AppendUvarint(dst, uint64(n)+1)
}

// entry is a map entry being encoded: its key's encoding is dst[key:end].
type entry struct {
	key, end int
	value    any
}

// appendEntries appends the entries of m sorted by their encoded keys: the
// keys are encoded first, the entries sorted by those bytes and written
// after them, and the result moved back over them.
func appendEntries[K comparable](dst []byte, m map[K]any, depth int, appendKey func([]byte, K) ([]byte, error)) ([]byte, error) {
	var small [8]entry // no allocation for small maps
	es := small[:0]
	if len(m) > len(small) {
		es = make([]entry, 0, len(m))
	}
	keys := len(dst)
	var err error
	for k, v := range m {
		at := len(dst)
		if dst, err = appendKey(dst, k); err != nil {
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

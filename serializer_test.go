package sessions

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// serTestPoint and serTestRole are custom types registered with gob, as an
// application using gorilla/sessions registers its own.
type serTestPoint struct {
	X, Y int
	Tag  string
}

type serTestRole string

// serTestUnregistered is never registered with gob.
type serTestUnregistered struct{ A int }

// serTestPanicker panics when gob encodes it.
type serTestPanicker struct{}

func (serTestPanicker) GobEncode() ([]byte, error) { panic("boom") }
func (*serTestPanicker) GobDecode([]byte) error    { return nil }

// serTestHolder and serTestTree are registered types with interface,
// slice, map, array, pointer, embedded and recursive fields, for the gob
// compatibility tests.
type serTestHolder struct {
	Any  interface{}
	List []interface{}
	M    map[string]interface{}
	Arr  [3]int
	When time.Time
	P    *serTestPoint
	serTestEmbedded
}

// serTestEmbedded is unexported, so gob leaves it out; it is there for the
// shape of the wire type.
type serTestEmbedded struct{ E string }

type serTestTree struct {
	Name string
	Kids []*serTestTree
	Meta map[string]int
}

// serTestEvil is written and read as serTestEvilLocal, which lacks the
// field Unknown, so gob skips that field.
type serTestEvil struct {
	Unknown interface{}
	M       map[string]int
}

type serTestEvilLocal struct{ M map[string]int }

func init() {
	gob.Register(serTestHolder{})
	gob.Register(serTestTree{})
	gob.Register(map[string]int{})
	gob.Register(serTestPoint{})
	gob.Register(serTestRole(""))
	gob.Register(serTestPanicker{})
	gob.Register([]*serTestPoint{})
	// What an application would have registered for gorilla/sessions to
	// store these inside the session values.
	gob.Register(time.Time{})
	gob.Register(map[string]interface{}{})
	gob.Register(map[interface{}]interface{}{})
}

// serRefValues returns the reference session of the benchmarks.
func serRefValues() map[interface{}]interface{} {
	return map[interface{}]interface{}{"user_id": "12345", "name": "Alice Example", "visits": 42}
}

// serEqual reports whether a and b hold the same types and values, with
// floats compared bit for bit (NaN equals itself) and times with Equal.
func serEqual(a, b interface{}) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case float32:
		return math.Float32bits(x) == math.Float32bits(b.(float32))
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	case time.Time:
		y := b.(time.Time)
		_, xo := x.Zone()
		_, yo := y.Zone()
		return x.Equal(y) && xo == yo
	case []interface{}:
		y := b.([]interface{})
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !serEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]interface{}:
		y := b.(map[string]interface{})
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !serEqual(v, w) {
				return false
			}
		}
		return true
	case map[interface{}]interface{}:
		y := b.(map[interface{}]interface{})
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if serIsNaN(k) {
				continue // a NaN key cannot be looked up
			}
			w, ok := y[k]
			if !ok {
				// A decoded time.Time key has another *Location than the
				// original, so it is another key: look for an equal one.
				for k2, w2 := range y {
					if serEqual(k, k2) {
						w, ok = w2, true
						break
					}
				}
			}
			if !ok || !serEqual(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func serIsNaN(v interface{}) bool {
	switch x := v.(type) {
	case float32:
		return math.IsNaN(float64(x))
	case float64:
		return math.IsNaN(x)
	}
	return false
}

// serRoundTrip serializes v, checks the format chosen, decodes it into an
// *interface{} and into a pointer to v's own type, and checks both give v.
func serRoundTrip(t *testing.T, v interface{}) []byte {
	t.Helper()
	var s CompactSerializer
	b, err := s.Serialize(v)
	if err != nil {
		t.Fatalf("Serialize(%#v): %v", v, err)
	}
	if compactKnows(v) && b[0] != compactMagic {
		t.Fatalf("Serialize(%#v) starts with 0x%02X, want the magic byte", v, b[0])
	}

	// AppendSerialize keeps what dst held and appends an encoding of the
	// same value (not necessarily the same bytes: map order is random).
	prefix := []byte("prefix")
	ab, err := s.AppendSerialize(append([]byte(nil), prefix...), v)
	if err != nil {
		t.Fatalf("AppendSerialize(%#v): %v", v, err)
	}
	if !bytes.HasPrefix(ab, prefix) || len(ab)-len(prefix) != len(b) {
		t.Fatalf("AppendSerialize(%#v) = %q, want %q then %d bytes", v, ab, prefix, len(b))
	}

	if compactKnows(v) {
		var got interface{}
		if err := s.Deserialize(b, &got); err != nil {
			t.Fatalf("Deserialize(%#v) into *interface{}: %v", v, err)
		}
		if !serEqual(v, got) {
			t.Fatalf("round trip into *interface{}: got %#v (%T), want %#v (%T)", got, got, v, v)
		}
		var got2 interface{}
		if err := s.Deserialize(ab[len(prefix):], &got2); err != nil || !serEqual(v, got2) {
			t.Fatalf("AppendSerialize output decodes to %#v, %v; want %#v", got2, err, v)
		}
	}
	if v != nil {
		p := reflect.New(reflect.TypeOf(v))
		if err := s.Deserialize(b, p.Interface()); err != nil {
			t.Fatalf("Deserialize(%#v) into %T: %v", v, p.Interface(), err)
		}
		if got := p.Elem().Interface(); !serEqual(v, got) {
			t.Fatalf("round trip into %T: got %#v, want %#v", p.Interface(), got, v)
		}
	}
	return b
}

func TestSerializerRoundTrip(t *testing.T) {
	utc := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC)
	tests := []struct {
		name string
		v    interface{}
	}{
		{"nil", nil},
		{"false", false},
		{"true", true},
		{"int zero", 0},
		{"int", -12345},
		{"int max", math.MaxInt},
		{"int min", math.MinInt},
		{"int8 min", int8(math.MinInt8)},
		{"int8 max", int8(math.MaxInt8)},
		{"int16 min", int16(math.MinInt16)},
		{"int16 max", int16(math.MaxInt16)},
		{"int32 min", int32(math.MinInt32)},
		{"int32 max", int32(math.MaxInt32)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 max", int64(math.MaxInt64)},
		{"uint", uint(7)},
		{"uint max", uint(math.MaxUint)},
		{"uint8", uint8(255)},
		{"uint16", uint16(math.MaxUint16)},
		{"uint32", uint32(math.MaxUint32)},
		{"uint64", uint64(math.MaxUint64)},
		{"float32", float32(3.25)},
		{"float32 NaN", float32(math.NaN())},
		{"float32 -0", float32(math.Copysign(0, -1))},
		{"float32 +Inf", float32(math.Inf(1))},
		{"float64", math.Pi},
		{"float64 NaN", math.NaN()},
		{"float64 -Inf", math.Inf(-1)},
		{"float64 smallest", math.SmallestNonzeroFloat64},
		{"string empty", ""},
		{"string", "héllo, wörld \x00\xff"},
		{"string long", strings.Repeat("x", 100000)},
		{"bytes nil", []byte(nil)},
		{"bytes empty", []byte{}},
		{"bytes", []byte{0, 1, 2, 0xC1, 0xFF}},
		{"time UTC", utc},
		{"time fixed zone", utc.In(time.FixedZone("X", -(3*3600 + 30*60)))},
		{"time seconds offset", utc.In(time.FixedZone("LMT", 3600+17))},
		{"time local", utc.Local()},
		{"time zero", time.Time{}},
		{"list nil", []interface{}(nil)},
		{"list empty", []interface{}{}},
		{"list", []interface{}{1, "two", 3.0, nil, []interface{}{int8(4)}, uint16(5)}},
		{"strings nil", []string(nil)},
		{"strings empty", []string{}},
		{"strings", []string{"a", "", "ccc"}},
		{"string map nil", map[string]interface{}(nil)},
		{"string map empty", map[string]interface{}{}},
		{"string map", map[string]interface{}{"a": 1, "": "empty key", "n": map[string]interface{}{"x": []string{"y"}}}},
		{"map nil", map[interface{}]interface{}(nil)},
		{"map empty", map[interface{}]interface{}{}},
		{"reference map", serRefValues()},
		{"map with mixed keys", map[interface{}]interface{}{
			"s": 1, 2: "int key", int64(2): "int64 key", uint8(2): "uint8 key", 2.5: true,
			true: false, nil: "nil key", utc: "time key", serTestPoint{X: 1}: "struct key",
		}},
		{"map nested", map[interface{}]interface{}{
			"a": map[interface{}]interface{}{"b": map[string]interface{}{"c": []interface{}{map[interface{}]interface{}{1: 2}}}},
		}},
		{"flashes", map[interface{}]interface{}{"_flash": []interface{}{"saved", "welcome back"}, "user": "bob"}},
		{"custom registered types in map", map[interface{}]interface{}{
			"point": serTestPoint{X: 1, Y: -2, Tag: "p"},
			"role":  serTestRole("admin"),
			"ints":  []int{1, 2, 3}, // pre-registered by gob
			"ptr":   []*serTestPoint{{X: 9}},
		}},
		{"custom type in list", []interface{}{serTestPoint{X: 3}, serTestRole("r")}},
		{"top-level custom struct (plain gob)", serTestPoint{X: 5, Tag: "top"}},
		{"top-level unregistered struct (plain gob)", serTestUnregistered{A: 1}},
		{"top-level map[string]string (plain gob)", map[string]string{"a": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serRoundTrip(t, tt.v)
		})
	}
}

func TestSerializerMaxNesting(t *testing.T) {
	nest := func(depth int) interface{} {
		var v interface{} = "leaf"
		for range depth {
			v = []interface{}{v}
		}
		return v
	}
	serRoundTrip(t, nest(compactMaxDepth))
	nestedMap := map[interface{}]interface{}{"v": nest(compactMaxDepth - 1)}
	serRoundTrip(t, nestedMap)

	var s CompactSerializer
	if _, err := s.Serialize(nest(compactMaxDepth + 1)); !errors.Is(err, ErrSerialize) {
		t.Fatalf("Serialize of %d nested slices: err = %v, want ErrSerialize", compactMaxDepth+1, err)
	}
}

func TestSerializerTopLevelDestinations(t *testing.T) {
	var s CompactSerializer

	b, err := s.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	old := map[interface{}]interface{}{"stale": true}
	m := old
	if err := s.Deserialize(b, &m); err != nil {
		t.Fatal(err)
	}
	if !serEqual(m, serRefValues()) {
		t.Fatalf("got %#v", m)
	}
	if len(old) != 1 {
		t.Fatalf("Deserialize modified the map *dst held: %#v", old)
	}

	b, err = s.Serialize("session-id")
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := s.Deserialize(b, &id); err != nil || id != "session-id" {
		t.Fatalf("Deserialize into *string = %q, %v", id, err)
	}
	var empty = "x"
	if b, err = s.Serialize(""); err != nil {
		t.Fatal(err)
	}
	if err := s.Deserialize(b, &empty); err != nil || empty != "" {
		t.Fatalf("Deserialize empty string = %q, %v", empty, err)
	}

	// nil into destinations that can hold it.
	b, err = s.Serialize(nil)
	if err != nil {
		t.Fatal(err)
	}
	m = map[interface{}]interface{}{"x": 1}
	if err := s.Deserialize(b, &m); err != nil || m != nil {
		t.Fatalf("nil into *map = %#v, %v", m, err)
	}
	sl := []string{"x"}
	if err := s.Deserialize(b, &sl); err != nil || sl != nil {
		t.Fatalf("nil into *[]string = %#v, %v", sl, err)
	}

	// A compact map into a destination of a named interface type.
	var st interface{ String() string }
	b, _ = s.Serialize(map[interface{}]interface{}{"t": time.Unix(0, 0).UTC()})
	var mi map[interface{}]interface{}
	if err := s.Deserialize(b, &mi); err != nil {
		t.Fatal(err)
	}
	st = mi["t"].(time.Time)
	if st.String() == "" {
		t.Fatal("empty time")
	}
}

// TestSerializerDecodedValuesDoNotAlias checks that decoded strings and
// byte slices do not point into the input, which may be a pooled buffer.
func TestSerializerDecodedValuesDoNotAlias(t *testing.T) {
	var s CompactSerializer
	in := map[interface{}]interface{}{"k": "value", "b": []byte("bytes"), "l": []string{"str"}}
	b, err := s.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[interface{}]interface{}
	if err := s.Deserialize(b, &got); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'Z'
	}
	if !serEqual(in, got) {
		t.Fatalf("decoded values changed with the input: %#v", got)
	}
	got["b"].([]byte)[0] = 'X'
	if string(in["b"].([]byte)) != "bytes" {
		t.Fatal("decoded []byte aliases the original")
	}
}

// TestSerializerReadsGob checks that data written by securecookie.GobEncoder,
// which is what gorilla/sessions writes, deserializes.
func TestSerializerReadsGob(t *testing.T) {
	when := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		v    interface{}
		dst  func() interface{} // a pointer to decode into
	}{
		{"session values", map[interface{}]interface{}{
			"user_id": "12345", "visits": 42, "ratio": 0.5, "ok": true, "when": when,
			"_flash": []interface{}{"hello", 3},
			"point":  serTestPoint{X: 1, Y: 2, Tag: "t"},
			"role":   serTestRole("admin"),
			"nested": map[string]interface{}{"a": "b"},
			"bytes":  []byte("raw"),
			"int8":   int8(-3), "uint16": uint16(9),
		}, func() interface{} { return new(map[interface{}]interface{}) }},
		{"session ID", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPABCD", func() interface{} { return new(string) }},
		{"struct", serTestPoint{X: 3, Tag: "s"}, func() interface{} { return new(serTestPoint) }},
		{"big map", func() map[interface{}]interface{} {
			m := map[interface{}]interface{}{}
			for i := range 500 {
				m[i] = strings.Repeat("v", i)
			}
			return m
		}(), func() interface{} { return new(map[interface{}]interface{}) }},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := securecookie.GobEncoder{}.Serialize(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			dst := tt.dst()
			if err := s.Deserialize(b, dst); err != nil {
				t.Fatalf("Deserialize gob: %v", err)
			}
			if got := reflect.ValueOf(dst).Elem().Interface(); !serEqual(tt.v, got) {
				t.Fatalf("got %#v, want %#v", got, tt.v)
			}
		})
	}

	// A top-level value of a type the compact format does not know is
	// written as plain gob, which gorilla's GobEncoder reads back.
	b, err := s.Serialize(serTestPoint{X: 7})
	if err != nil {
		t.Fatal(err)
	}
	var p serTestPoint
	if err := (securecookie.GobEncoder{}).Deserialize(b, &p); err != nil || p.X != 7 {
		t.Fatalf("GobEncoder reading our plain gob: %+v, %v", p, err)
	}
}

// TestSerializerGobNeverStartsWithMagic checks the premise of the format
// detection: gob streams of every shape and size start with a byte in
// 0x00–0x7F or 0xF8–0xFF, never in 0x80–0xF7 where the magic byte is.
func TestSerializerGobNeverStartsWithMagic(t *testing.T) {
	if compactMagic < 0x80 || compactMagic > 0xF7 {
		t.Fatalf("magic byte 0x%02X is outside 0x80–0xF7", compactMagic)
	}
	var values []interface{}
	for _, n := range []int{0, 1, 10, 100, 120, 127, 128, 200, 255, 256, 1000, 65535, 65536, 70000, 1 << 20} {
		s := strings.Repeat("a", n)
		values = append(values,
			s,
			[]byte(s),
			map[interface{}]interface{}{"k": s, "n": n, "_flash": []interface{}{s}},
			map[string]interface{}{"k": s},
			serTestPoint{Tag: s},
		)
	}
	values = append(values, 0, -1, math.MaxInt64, 1.5, true, time.Now(), serRefValues(),
		[]interface{}{1, "a"}, []string{"x"}, serTestRole("r"))
	for _, v := range values {
		b, err := securecookie.GobEncoder{}.Serialize(v)
		if err != nil {
			t.Fatalf("gob %T: %v", v, err)
		}
		if first := b[0]; first >= 0x80 && first <= 0xF7 {
			t.Fatalf("gob stream of %T (%d bytes) starts with 0x%02X", v, len(b), first)
		}
		// And a stream of an interface value, as stored inside our format.
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
			t.Fatal(err)
		}
		if first := buf.Bytes()[0]; first >= 0x80 && first <= 0xF7 {
			t.Fatalf("gob stream of interface %T starts with 0x%02X", v, first)
		}
	}
	// gob itself refuses a stream starting with any byte of that range.
	for first := 0x80; first <= 0xF7; first++ {
		var v interface{}
		if err := gob.NewDecoder(bytes.NewReader([]byte{byte(first), 0, 0, 0, 0, 0, 0, 0, 0, 0})).Decode(&v); err == nil {
			t.Fatalf("gob accepted a stream starting with 0x%02X", first)
		}
	}
}

func TestSerializerSerializeErrors(t *testing.T) {
	selfRef := map[string]interface{}{}
	selfRef["me"] = selfRef
	tests := []struct {
		name string
		v    interface{}
		want string // in the message
	}{
		{"unregistered type in map", map[interface{}]interface{}{"x": serTestUnregistered{A: 1}}, "not registered"},
		{"unregistered type as key", map[interface{}]interface{}{serTestUnregistered{A: 1}: 1}, "not registered"},
		{"unregistered type in list", []interface{}{serTestUnregistered{}}, "not registered"},
		{"channel in map", map[interface{}]interface{}{"c": make(chan int)}, "chan int"},
		{"func in map", map[string]interface{}{"f": func() {}}, "func()"},
		{"nil pointer in map", map[interface{}]interface{}{"p": (*serTestPoint)(nil)}, "nil pointer"},
		{"map containing itself", selfRef, "nested more than"},
		{"top-level channel", make(chan int), "chan int"},
		{"panicking GobEncode", map[interface{}]interface{}{"p": serTestPanicker{}}, "boom"},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Serialize(tt.v)
			if !errors.Is(err, ErrSerialize) || b != nil {
				t.Fatalf("Serialize = %q, %v; want nil, ErrSerialize", b, err)
			}
			if !strings.HasPrefix(err.Error(), "sessions: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q: want prefix %q and %q", err, "sessions: ", tt.want)
			}
			dst := []byte("keep")
			out, err := s.AppendSerialize(dst, tt.v)
			if !errors.Is(err, ErrSerialize) || string(out) != "keep" {
				t.Fatalf("AppendSerialize = %q, %v; want %q, ErrSerialize", out, err, "keep")
			}
		})
	}
}

// serCompact builds a compact-format input from its parts.
func serCompact(parts ...interface{}) []byte {
	b := []byte{compactMagic}
	for _, p := range parts {
		switch x := p.(type) {
		case byte:
			b = append(b, x)
		case int: // a uvarint
			b = binary.AppendUvarint(b, uint64(x))
		case uint64:
			b = binary.AppendUvarint(b, x)
		case string:
			b = append(b, x...)
		case []byte:
			b = append(b, x...)
		default:
			panic("serCompact: bad part")
		}
	}
	return b
}

func TestSerializerDeserializeErrors(t *testing.T) {
	deep := []byte{compactMagic}
	for range compactMaxDepth + 1 {
		deep = append(deep, compactTagList, 2)
	}
	deep = append(deep, compactTagNil)
	okDeep := append([]byte{compactMagic}, deep[3:]...)

	var gobInt bytes.Buffer
	if err := gob.NewEncoder(&gobInt).Encode(42); err != nil {
		t.Fatal(err)
	}
	var gobSlice bytes.Buffer
	var sliceValue interface{} = []int{1}
	if err := gob.NewEncoder(&gobSlice).Encode(&sliceValue); err != nil {
		t.Fatal(err)
	}
	var gobUnknown bytes.Buffer
	var unknownValue interface{} = serTestPoint{X: 1}
	if err := gob.NewEncoder(&gobUnknown).Encode(&unknownValue); err != nil {
		t.Fatal(err)
	}
	gobUnknownName := bytes.Replace(gobUnknown.Bytes(), []byte("serTestPoint"), []byte("serTestPoinX"), 1)

	tests := []struct {
		name string
		in   []byte
		dst  interface{}
		want string
	}{
		{"empty", nil, new(interface{}), "empty input"},
		{"magic only", []byte{compactMagic}, new(interface{}), "truncated"},
		{"unknown version 0x80", []byte{0x80, 0}, new(interface{}), "unknown format version 0x80"},
		{"unknown version 0xF7", []byte{0xF7, 0}, new(interface{}), "unknown format version 0xF7"},
		{"unknown version 0xC2", []byte{0xC2, 0}, new(interface{}), "unknown format version"},
		{"unknown tag", serCompact(byte(0x7F)), new(interface{}), "unknown type tag 0x7F"},
		{"trailing data", serCompact(compactTagNil, compactTagNil), new(interface{}), "trailing data"},
		{"truncated string", serCompact(compactTagString, 10, "abc"), new(interface{}), "exceeds"},
		{"huge string length", serCompact(compactTagString, uint64(1)<<62, "abc"), new(interface{}), "exceeds"},
		{"huge bytes count", serCompact(compactTagBytes, uint64(math.MaxUint64)), new(interface{}), "exceeds"},
		{"huge list count", serCompact(compactTagList, uint64(1)<<40, compactTagNil), new(interface{}), "exceeds"},
		{"huge strings count", serCompact(compactTagStrings, 1<<20), new(interface{}), "exceeds"},
		{"huge map count", serCompact(compactTagMap, 1<<30, compactTagNil, compactTagNil), new(interface{}), "exceeds"},
		{"huge string map count", serCompact(compactTagStringMap, 5, 0, compactTagNil), new(interface{}), "exceeds"},
		{"huge time length", serCompact(compactTagTime, 1<<33), new(interface{}), "exceeds"},
		{"huge gob length", serCompact(compactTagGob, 1<<33), new(interface{}), "exceeds"},
		{"varint overflow", serCompact(compactTagUint64, strings.Repeat("\xff", 10), byte(1)), new(interface{}), "overflows"},
		{"truncated varint", serCompact(compactTagInt, byte(0x80)), new(interface{}), "truncated"},
		{"truncated float64", serCompact(compactTagFloat64, "1234567"), new(interface{}), "truncated"},
		{"truncated float32", serCompact(compactTagFloat32, "123"), new(interface{}), "truncated"},
		{"truncated list", serCompact(compactTagList, 3, compactTagNil), new(interface{}), "exceeds"},
		{"truncated list element", serCompact(compactTagList, 2, compactTagString), new(interface{}), "truncated"},
		{"int8 missing", serCompact(compactTagInt8), new(interface{}), "truncated"},
		{"int16 out of range", binary.AppendVarint(serCompact(compactTagInt16), 1<<15), new(interface{}), "int16 out of range"},
		{"int32 out of range", binary.AppendVarint(serCompact(compactTagInt32), -(1<<31)-1), new(interface{}), "int32 out of range"},
		{"uint16 out of range", serCompact(compactTagUint16, 1<<16), new(interface{}), "uint16 out of range"},
		{"uint32 out of range", serCompact(compactTagUint32, uint64(1)<<32), new(interface{}), "uint32 out of range"},
		{"bad time", serCompact(compactTagTime, 3, "abc"), new(interface{}), "time.Time"},
		{"excessive nesting", deep, new(interface{}), "nested more than"},
		{"unhashable key list", serCompact(compactTagMap, 2, compactTagList, 1, compactTagNil), new(interface{}), "not comparable"},
		{"unhashable key bytes", serCompact(compactTagMap, 2, compactTagBytes, 1, compactTagNil), new(interface{}), "not comparable"},
		{"unhashable key gob", append(serCompact(compactTagMap, 2, compactTagGob, gobSlice.Len()), gobSlice.Bytes()...), new(interface{}), "not comparable"},
		{"gob value of a concrete type", append(serCompact(compactTagList, 2, compactTagGob, gobInt.Len()), gobInt.Bytes()...), new(interface{}), "gob value"},
		{"gob value of unknown type", append(serCompact(compactTagList, 2, compactTagGob, len(gobUnknownName)), gobUnknownName...), new(interface{}), "not registered"},
		{"gob garbage", []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, new(map[interface{}]interface{}), "sessions: cannot deserialize"},
		{"gob into a nil *map", gobInt.Bytes(), (*map[interface{}]interface{})(nil), "sessions: cannot deserialize"},
		{"gob into a non-pointer", gobInt.Bytes(), 0, "sessions: cannot deserialize"},
		{"gob of another type", gobInt.Bytes(), new(map[interface{}]interface{}), "received remote type int"},
		{"nil destination", serCompact(compactTagNil), nil, "destination is nil"},
		{"non-pointer destination", serCompact(compactTagNil), map[interface{}]interface{}{}, "not a pointer"},
		{"nil *string", serCompact(compactTagString, 1, "a"), (*string)(nil), "nil *string"},
		{"nil *map", serCompact(compactTagMap, 1), (*map[interface{}]interface{})(nil), "nil *map"},
		{"nil *interface{}", serCompact(compactTagNil), (*interface{})(nil), "nil *interface"},
		{"nil *int", serCompact(compactTagInt, 2), (*int)(nil), "nil *int"},
		{"map into *string", serCompact(compactTagMap, 1), new(string), "cannot store"},
		{"string into *map", serCompact(compactTagString, 1, "a"), new(map[interface{}]interface{}), "cannot store"},
		{"string map into *map", serCompact(compactTagStringMap, 1), new(map[interface{}]interface{}), "cannot store"},
		{"int into *int64", serCompact(compactTagInt, 2), new(int64), "cannot store"},
		{"nil into *int", serCompact(compactTagNil), new(int), "cannot store"},
		{"string with trailing data into *string", serCompact(compactTagString, 1, "ab"), new(string), "trailing"},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Deserialize(tt.in, tt.dst)
			if !errors.Is(err, ErrDeserialize) {
				t.Fatalf("Deserialize(%x) = %v, want ErrDeserialize", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), "sessions: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q: want prefix %q and %q", err, "sessions: ", tt.want)
			}
		})
	}

	// One level less than the excessive nesting decodes.
	var v interface{}
	if err := s.Deserialize(okDeep, &v); err != nil {
		t.Fatalf("%d nested lists: %v", compactMaxDepth, err)
	}
}

// TestSerializerTruncations checks every proper prefix of valid encodings:
// each must fail cleanly with ErrDeserialize.
func TestSerializerTruncations(t *testing.T) {
	var s CompactSerializer
	for _, v := range serFuzzSeedValues() {
		b, err := s.Serialize(v)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			for _, dst := range []interface{}{new(interface{}), new(map[interface{}]interface{}), new(string)} {
				if err := s.Deserialize(b[:n], dst); !errors.Is(err, ErrDeserialize) {
					t.Fatalf("Deserialize(%x) into %T (prefix %d of %d of %#v) = %v, want ErrDeserialize", b[:n], dst, n, len(b), v, err)
				}
			}
		}
	}
}

// TestSerializerConcurrent exercises the buffer pool from many goroutines
// (meaningful under -race).
func TestSerializerConcurrent(t *testing.T) {
	var s CompactSerializer
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := map[interface{}]interface{}{"g": g, "i": i, "s": strings.Repeat("x", i)}
				b, err := s.Serialize(in)
				if err != nil {
					t.Error(err)
					return
				}
				var out map[interface{}]interface{}
				if err := s.Deserialize(b, &out); err != nil || !serEqual(in, out) {
					t.Errorf("got %#v, %v; want %#v", out, err, in)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSerializerReferenceSize documents how much smaller the compact
// encoding of the reference session is than gob's.
func TestSerializerReferenceSize(t *testing.T) {
	b, err := CompactSerializer{}.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	g, err := securecookie.GobEncoder{}.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	// 1 magic + 1 tag + 1 count + 9 + 7 + 6 + 15 + 8 + 2 bytes.
	if len(b) != 50 {
		t.Errorf("compact encoding of the reference map is %d bytes, want 50", len(b))
	}
	if len(b) >= len(g) {
		t.Errorf("compact %d bytes, gob %d bytes", len(b), len(g))
	}
	t.Logf("reference map: compact %d bytes, gob %d bytes", len(b), len(g))
}

// TestSerializerGobCheckAcceptsGob checks that the walk run before gob
// decoding accepts what gob writes, for shapes that exercise its forks:
// interface values inside structs that carry type definitions, nil
// interface values in struct fields, recursive and embedded types.
func TestSerializerGobCheckAcceptsGob(t *testing.T) {
	nils := make([]interface{}, 12)
	mixed := []interface{}{nil, serTestPoint{X: 1}, nil, "s", serTestRole("r"), nil,
		map[string]interface{}{"p": serTestPoint{}}, serTestHolder{Any: serTestPoint{Y: 2}, List: []interface{}{nil}}}
	big := map[interface{}]interface{}{"p": serTestPoint{X: 1}}
	for i := range 300 {
		big[i] = i
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		v    interface{}
		dst  func() interface{}
	}{
		{"holder with a point", map[interface{}]interface{}{"h": serTestHolder{Any: serTestPoint{X: 1}}}, nil},
		{"holder with nils", map[interface{}]interface{}{"h": serTestHolder{List: nils}}, nil},
		{"holder mixed", map[interface{}]interface{}{"h": serTestHolder{List: mixed, M: map[string]interface{}{"a": serTestPoint{}, "b": nil},
			When: when, P: &serTestPoint{Tag: "p"}, Arr: [3]int{1, 2, 3}}}, nil},
		{"five holders", map[interface{}]interface{}{"hs": []interface{}{
			serTestHolder{Any: 1}, serTestHolder{Any: serTestPoint{}}, serTestHolder{List: nils[:3]},
			serTestHolder{M: map[string]interface{}{"x": nil}}, serTestHolder{Any: serTestRole("r")}}}, nil},
		{"flashes of structs", map[interface{}]interface{}{"_flash": []interface{}{serTestPoint{X: 1}, serTestPoint{X: 2}}}, nil},
		{"nested maps", map[interface{}]interface{}{"m": map[string]interface{}{"p": serTestPoint{}, "q": map[string]interface{}{"r": serTestRole("x")}}}, nil},
		{"tree", map[interface{}]interface{}{"t": serTestTree{Name: "a", Kids: []*serTestTree{{Name: "b", Kids: []*serTestTree{{Name: "c"}}}}, Meta: map[string]int{"x": 1}}}, nil},
		{"big map", big, nil},
		{"top-level holder", serTestHolder{List: mixed, Any: serTestPoint{}}, func() interface{} { return new(serTestHolder) }},
		{"top-level tree", serTestTree{Name: "root", Kids: []*serTestTree{{Name: "leaf"}}}, func() interface{} { return new(serTestTree) }},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := securecookie.GobEncoder{}.Serialize(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if err := compactCheckGob(b); err != nil {
				t.Fatalf("check rejected gob data: %v", err)
			}
			dst := interface{}(new(map[interface{}]interface{}))
			if tt.dst != nil {
				dst = tt.dst()
			}
			if err := s.Deserialize(b, dst); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(dst).Elem().Interface(); !reflect.DeepEqual(got, tt.v) && !serEqual(got, tt.v) {
				t.Fatalf("got %#v, want %#v", got, tt.v)
			}
			// And the same values inside the compact format, one gob value
			// each.
			if m, ok := tt.v.(map[interface{}]interface{}); ok {
				serRoundTrip(t, m)
			}
		})
	}
}

// serGobMessages splits a gob stream into its messages (without their
// length prefixes).
func serGobMessages(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	for len(b) > 0 {
		n, used, ok := compactGobUint(b)
		if !ok || uint64(len(b)-used) < n {
			t.Fatalf("bad gob framing")
		}
		msgs = append(msgs, b[used:used+int(n)])
		b = b[used+int(n):]
	}
	return msgs
}

// serGobFrame joins messages into a gob stream.
func serGobFrame(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = serGobAppendUint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// serGobAppendUint appends x as a gob unsigned integer.
func serGobAppendUint(b []byte, x uint64) []byte {
	if x <= 0x7f {
		return append(b, byte(x))
	}
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], x)
	i := 0
	for be[i] == 0 {
		i++
	}
	b = append(b, byte(-(8 - i)))
	return append(b, be[i:]...)
}

// TestSerializerGobCheckRejects checks hostile gob data that would make
// encoding/gob allocate gigabytes (golang/go#79539): it must be rejected
// before gob sees it. None of these inputs is ever given to gob directly.
func TestSerializerGobCheckRejects(t *testing.T) {
	huge := serGobAppendUint(nil, 1<<32)

	// A map[string]int whose count is patched to 2^32.
	plain, err := securecookie.GobEncoder{}.Serialize(map[string]int{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	msgs := serGobMessages(t, plain)
	last := msgs[len(msgs)-1] // type id, singleton delta 0, count 1, "a", 1
	if !bytes.HasSuffix(last, []byte{0, 1, 1, 'a', 2}) {
		t.Fatalf("unexpected gob encoding % x", last)
	}
	patched := append(append(append([]byte(nil), last[:len(last)-4]...), huge...), 1, 'a', 2)
	hugeMap := serGobFrame(append(msgs[:len(msgs)-1:len(msgs)-1], patched)...)

	// The same map inside a session value (an interface).
	nested, err := securecookie.GobEncoder{}.Serialize(map[interface{}]interface{}{"m": map[string]int{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	nmsgs := serGobMessages(t, nested)
	nlast := nmsgs[len(nmsgs)-1]
	i := bytes.Index(nlast, []byte{0, 1, 1, 'a', 2})
	if i < 0 || nlast[i-1] != 5 {
		t.Fatalf("unexpected gob encoding % x", nlast)
	}
	// The interface value's byte count (5) precedes it and grows by the
	// bytes added.
	npatched := append([]byte(nil), nlast[:i-1]...)
	npatched = append(npatched, byte(5+len(huge)-1), 0)
	npatched = append(npatched, huge...)
	npatched = append(npatched, nlast[i+2:]...)
	nestedHugeMap := serGobFrame(append(nmsgs[:len(nmsgs)-1:len(nmsgs)-1], npatched)...)

	// A struct field that the local type lacks (serTestEvil.Unknown read
	// as serTestEvilLocal): gob skips it, and skipping a nil interface
	// reads on as if a type id and a byte count followed. Parsed in order,
	// the bytes after the nil end the struct with an error; skipped, they
	// lead to the field M with a map of 2^32 entries.
	evil, err := securecookie.GobEncoder{}.Serialize(serTestEvil{M: map[string]int{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	emsgs := serGobMessages(t, evil)
	elast := emsgs[len(emsgs)-1]
	id, n, _ := compactGobUint(elast)
	forkValue := func(count []byte) []byte {
		v := append([]byte(nil), elast[:n]...) // type id
		v = append(v, 1, 0)                    // field Unknown: a nil interface
		v = append(v, 4, 0)                    // skipped: type id 2, 0 bytes; parsed: delta 4, out of range
		v = append(v, 1)                       // field M
		v = append(v, count...)                // its count
		return append(v, 1, 'a', 2, 0)         // "a": 1, end of struct
	}
	_ = id
	forkSmall := serGobFrame(append(emsgs[:len(emsgs)-1:len(emsgs)-1], forkValue([]byte{1}))...)
	forkHuge := serGobFrame(append(emsgs[:len(emsgs)-1:len(emsgs)-1], forkValue(huge))...)

	// Control: with a count of 1, gob does take the skipping path and
	// decodes M, so the walk must follow it.
	var local serTestEvilLocal
	if err := (CompactSerializer{}).Deserialize(forkSmall, &local); err != nil || local.M["a"] != 1 {
		t.Fatalf("control: %+v, %v", local, err)
	}

	deep := interface{}("leaf")
	for range compactGobMaxDepth + 5 {
		deep = []interface{}{deep}
	}
	deepGob, err := securecookie.GobEncoder{}.Serialize(map[interface{}]interface{}{"d": deep})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		in   []byte
		dst  interface{}
		want string
	}{
		{"map count 2^32", hugeMap, new(map[string]int), "map of 4294967296 entries"},
		{"map count 2^32 in a session value", nestedHugeMap, new(map[interface{}]interface{}), "map of 4294967296 entries"},
		{"map count 2^32 behind a skipped field", forkHuge, new(serTestEvilLocal), "map of 4294967296 entries"},
		{"nesting", deepGob, new(map[interface{}]interface{}), "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compactCheckGob(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("compactCheckGob = %v, want %q", err, tt.want)
			}
			err = CompactSerializer{}.Deserialize(tt.in, tt.dst)
			if !errors.Is(err, ErrDeserialize) || !strings.HasPrefix(err.Error(), "sessions: ") {
				t.Fatalf("Deserialize = %v, want ErrDeserialize", err)
			}
			// The same data as a gob value inside the compact format.
			var v interface{}
			in := append(serCompact(compactTagGob, len(tt.in)), tt.in...)
			if err := (CompactSerializer{}).Deserialize(in, &v); !errors.Is(err, ErrDeserialize) {
				t.Fatalf("Deserialize of the compact form = %v, want ErrDeserialize", err)
			}
		})
	}
}
